"""Runtime settings: defaults that work on a laptop, and refusal of unsafe or unknown configuration."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.settings import MODEL_NAME, Settings


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
