"""Runtime settings: defaults that work on a laptop, and refusal of unsafe or unknown configuration."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.settings import MODEL_NAME, Settings, get_settings
from {{ cookiecutter.package_name }}.user_errors import UserError

from conftest import ANONYMOUS_FEEDBACK


def make_settings(env_file: Path | None = None, **values: Any) -> Settings:
    """Settings from explicit values, reading no .env unless one is given."""
    return Settings(_env_file=env_file, **values)


def test_default_model_uri_names_the_champion_alias() -> None:
    settings = make_settings()
    assert settings.model_uri == f"models:/{MODEL_NAME}@champion"


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert make_settings().database_url.endswith("x.db")


@pytest.mark.parametrize("key", ["", "changethis", "ChangeMe"])
def test_production_refuses_placeholder_api_key(key: str) -> None:
    with pytest.raises(ValidationError, match="API_KEY"):
        make_settings(environment="production", api_key=key)


def test_production_refuses_missing_api_key() -> None:
    with pytest.raises(ValidationError, match="API_KEY"):
        make_settings(environment="production")


def test_production_accepts_a_real_api_key() -> None:
    settings = make_settings(environment="production", api_key="s3cr3t-4f9a")
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "s3cr3t-4f9a"


def test_unknown_key_in_env_file_is_refused(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DATABSE_URL=sqlite:///typo.db\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="databse_url"):
        make_settings(env_file)


def test_settings_are_frozen() -> None:
    settings = make_settings()
    with pytest.raises(ValidationError):
        settings.model_name = "other"  # type: ignore[misc]


SECRET = "k9-secret-do-not-print"
SORTED_SCOPES = ["admin", "feedback", "predict"]


def test_api_keys_are_named_keys_with_scopes() -> None:
    settings = make_settings(api_keys=f"app:predict+feedback:{SECRET}, web:predict:{SECRET}2,ops:admin:a:b:c")
    keys = settings.service_keys()
    assert [(key.name, sorted(key.scopes)) for key in keys] == [
        ("app", ["feedback", "predict"]),
        ("web", ["predict"]),
        ("ops", ["admin"]),
    ]
    # Everything after the second colon is the secret; it is a SecretStr, so printing the settings hides it.
    assert keys[2].secret.get_secret_value() == "a:b:c"
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())


def test_api_key_alone_is_an_all_scopes_key_named_default() -> None:
    (key,) = make_settings(api_key=SECRET).service_keys()
    assert (key.name, key.scopes) == ("default", frozenset({"predict", "feedback", "admin"}))
    assert key.secret.get_secret_value() == SECRET
    assert make_settings(api_key="").service_keys() == ()  # an empty API_KEY= line sets no key


@pytest.mark.parametrize(
    ("value", "sentence"),
    [
        (f"app:predict:{SECRET},web:predict", "API_KEYS entry 2 is not name:scopes:secret"),
        (f"app:predict:{SECRET},web:predict:  ", "API_KEYS entry 2 has an empty secret"),
        (f"app:predict:{SECRET},app:admin:{SECRET}x", "API_KEYS entry 2 has the name of entry 1"),
        (f"app:predict:{SECRET},web:predict:{SECRET}", "API_KEYS entry 2 has the secret of entry 1"),
        (f"app:predict+labels:{SECRET}", "API_KEYS entry 1 has an unknown scope: use predict, feedback, admin"),
        (f"app::{SECRET}", "API_KEYS entry 1 has an unknown scope"),
        (f"my app:predict:{SECRET}", "API_KEYS entry 1 has a bad name"),
        (f"anonymous:feedback:{SECRET}", "API_KEYS entry 1 is named anonymous"),
        # The secret written where the scopes belong: the error names the entry, never what it holds.
        (f"app:{SECRET}:predict", "API_KEYS entry 1 has an unknown scope"),
    ],
)
def test_bad_api_keys_are_refused_with_a_sentence_that_hides_the_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str, sentence: str
) -> None:
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))  # a state root without a .env
    monkeypatch.setenv("API_KEYS", value)
    with pytest.raises(UserError) as refused:
        get_settings.__wrapped__()
    message = str(refused.value)
    assert sentence in message and "\n" not in message
    assert SECRET not in message


def test_api_key_beside_api_keys_is_the_operators_all_scopes_key() -> None:
    keys = make_settings(api_key=SECRET, api_keys=f"web:predict:{SECRET}x").service_keys()
    assert [(key.name, sorted(key.scopes)) for key in keys] == [("web", ["predict"]), ("default", SORTED_SCOPES)]
    with pytest.raises(ValidationError, match="API_KEYS names a key default, the name of API_KEY's key"):
        make_settings(api_key=SECRET, api_keys=f"default:predict:{SECRET}x")


def test_production_refuses_a_placeholder_secret_in_api_keys() -> None:
    with pytest.raises(ValidationError, match="API_KEY or API_KEYS must be set to real secrets"):
        make_settings(environment="production", api_keys=f"app:predict:{SECRET},web:predict:changeme")
    assert make_settings(environment="production", api_keys=f"app:predict:{SECRET}").service_keys()


def test_a_command_with_bad_api_keys_says_so_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "DVC_ROOT": str(tmp_path), "API_KEYS": f"app:predict:{SECRET},web:predikt:{SECRET}"}
    command = [str(Path(sys.executable).with_name("{{ cookiecutter.package_name }}")), "serve", "--port", "1"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "[serve] error: the settings are refused: api_keys: API_KEYS entry 2 has an unknown scope: use predict, "
        "feedback, admin, joined by + (fix .env or the environment; see .env.example)"
    ]
    assert SECRET not in result.stderr + result.stdout


def test_anonymous_feedback_is_open_on_a_laptop_bake_and_refused_on_a_team_bake(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ANONYMOUS_FEEDBACK)  # set by the tests' conftest.py for the tests about other things
    team_bake = {{ "True" if cookiecutter.store == "postgresql" or cookiecutter.tracking == "server" else "False" }}
    assert make_settings().allow_anonymous_feedback is not team_bake
