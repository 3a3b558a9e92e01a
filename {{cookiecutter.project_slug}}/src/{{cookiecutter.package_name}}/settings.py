"""Runtime settings (URIs, paths, secrets) read from the environment and `.env`, validated and frozen."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .core.api_keys import ApiKey, parse_api_keys, the_keys
from .user_errors import UserError

# The checkout that an editable install points to: the fallback root for commands run outside any project folder.
PACKAGE_CHECKOUT = Path(__file__).resolve().parents[2]
MODEL_NAME = "{{ cookiecutter.project_slug }}"
PLACEHOLDER_SECRETS = {"", "changethis", "changeme", "secret", "password"}


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above start (default: the working directory) holding dvc.yaml and params.yaml.

    DVC runs a stage in the folder of its dvc.yaml: the workspace for `dvc repro` and `dvc exp run`, a temporary copy
    for a queued experiment. Resolving from there makes each stage read and write the copy it was started in, never
    the folder the package happens to be installed from.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "dvc.yaml").is_file() and (folder / "params.yaml").is_file():
            return folder
    return PACKAGE_CHECKOUT


def find_state_root(project_root: Path | None = None) -> Path:
    """Where runtime state lives (.env, mlflow.db, mlartifacts/, predictions.db): the project DVC was started in.

    A queued experiment's temporary copy has none of these gitignored files and is deleted after the run, so its
    MLflow runs and registered versions must land in the main project; DVC names that project in DVC_ROOT.
    """
    dvc_root = os.environ.get("DVC_ROOT")
    return Path(dvc_root).resolve() if dvc_root else (project_root or find_project_root())


def _state_path(*parts: str) -> Path:
    return find_state_root().joinpath(*parts)


class Settings(BaseSettings):
    """Values that differ between a laptop, CI and production; experiment parameters live in params.yaml."""

    # No `.env` by default: get_settings passes the state root's, which a fixed path here could not follow.
    # hide_input_in_errors: a refused value (an API_KEYS entry, a URL with a password) is never echoed in the error.
    model_config = SettingsConfigDict(env_file_encoding="utf-8", extra="forbid", frozen=True, hide_input_in_errors=True)

    environment: Literal["development", "test", "production"] = "development"
    project_root: Path = Field(default_factory=find_project_root)
    mlflow_tracking_uri: str = Field(default_factory=lambda: f"sqlite:///{_state_path('mlflow.db')}")
    # The login to an MLflow server that runs its basic-auth app (docs/team-stack.md, "Registry login"). MLflow's
    # client reads both from the environment itself; they are here too so that `.env` may hold them
    # (io/tracking.use_login hands them on). Without them such a server answers 401, and commands say so in a line.
    mlflow_tracking_username: str | None = None
    mlflow_tracking_password: SecretStr | None = None
    mlflow_artifact_root: Path = Field(default_factory=lambda: _state_path("mlartifacts"))
    mlflow_experiment: str = MODEL_NAME
    model_name: str = MODEL_NAME
    # A registry reference: an alias (`@champion`), or a version (`/3`).
    model_uri: str = f"models:/{MODEL_NAME}@champion"
    database_url: str = Field(default_factory=lambda: f"sqlite:///{_state_path('predictions.db')}")
    # One all-scopes key named `default`, or API_KEYS: named keys with scopes, `name:scopes:secret` comma-separated
    # (core/api_keys.py, docs/security.md). NoDecode: the value is that text, not JSON.
    api_key: SecretStr | None = None
    api_keys: Annotated[tuple[ApiKey, ...], NoDecode] = ()
    # Feedback sent without a key, when no key is set: open on a laptop, refused by a team bake (docs/security.md).
    allow_anonymous_feedback: bool = {{ "False" if cookiecutter.store == "postgresql" or cookiecutter.tracking == "server" else "True" }}
    cors_origins: list[str] = []
    max_body_bytes: int = 1_000_000
    max_batch_size: int = 1000
    microbatch_max_size: int = 64
    microbatch_wait_ms: float = 2.0
    # `plain`: the reference path a learner reads (docs/serving.md); `fast`: the same answers with service/fast/.
    serving_mode: Literal["fast", "plain"] = "fast"
    # `monitor` writes a folder per run here and copies the newest to latest/, which the service serves.
    monitoring_dir: Path = Field(default_factory=lambda: _state_path("reports", "monitoring"))
    # A breach POSTs one message here (`slack`: Slack's incoming-webhook shape); the URL is a secret, never logged.
    alert_webhook_url: SecretStr | None = None
    alert_format: Literal["json", "slack"] = "json"
    # Seconds between two looks at the registry for a moved MODEL_URI alias, swapped in when it moved; 0 = off
    # (POST /admin/reload does it on request). Each look asks an MLflow server for the alias's version first, and
    # loads MODEL_URI only when it moved or when no server can tell (docs/serving.md).
    model_poll_seconds: float = Field(0.0, ge=0)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_api_keys(cls, value: object) -> object:
        return parse_api_keys(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_keys(self) -> "Settings":
        keys = self.service_keys()  # refuses an API_KEYS key named `default` beside API_KEY
        placeholder = any(key.secret.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS for key in keys)
        if self.environment == "production" and (not keys or placeholder):
            raise ValueError("API_KEY or API_KEYS must be set to real secrets when ENVIRONMENT=production")
        return self

    def service_keys(self) -> tuple[ApiKey, ...]:
        """The keys the service accepts: API_KEYS's, and API_KEY as one all-scopes key named `default`; () for none."""
        return the_keys(self.api_keys, self.api_key)


def refused_setting(location: tuple[int | str, ...], message: str) -> str:
    return f"{'.'.join(map(str, location)) or 'settings'}: {message.removeprefix('Value error, ')}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once, with the state root's `.env` (a queued experiment's copy has none)."""
    try:
        return Settings(_env_file=find_state_root() / ".env")
    except ValidationError as error:
        # One line naming each refused setting, for every command (the values themselves are never shown).
        problems = "; ".join(refused_setting(e["loc"], e["msg"]) for e in error.errors())
        fix = "fix .env or the environment; see .env.example"
        raise UserError(f"the settings are refused: {problems} ({fix})") from None
