"""Runtime settings (URIs, paths, secrets) read from the environment and `.env`, validated and frozen."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The project root is where `params.yaml` lives; commands run from anywhere inside the project.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
MODEL_NAME = "{{ cookiecutter.project_slug }}"
PLACEHOLDER_SECRETS = {"", "changethis", "changeme", "secret", "password"}


class Settings(BaseSettings):
    """Values that differ between a laptop, CI and production; experiment parameters live in params.yaml."""

    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="forbid", frozen=True
    )

    environment: Literal["development", "test", "production"] = "development"
    project_root: Path = PROJECT_ROOT
    mlflow_tracking_uri: str = f"sqlite:///{PROJECT_ROOT / 'mlflow.db'}"
    mlflow_artifact_root: Path = PROJECT_ROOT / "mlartifacts"
    mlflow_experiment: str = MODEL_NAME
    model_name: str = MODEL_NAME
    # A registry reference: an alias (`@champion`), or a version (`/3`).
    model_uri: str = f"models:/{MODEL_NAME}@champion"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'predictions.db'}"
    api_key: SecretStr | None = None
    cors_origins: list[str] = []
    max_body_bytes: int = 1_000_000
    max_batch_size: int = 1000
    microbatch_max_size: int = 64
    microbatch_wait_ms: float = 2.0
    # `monitor` writes a folder per run here and copies the newest to latest/, which the service serves.
    monitoring_dir: Path = PROJECT_ROOT / "reports" / "monitoring"

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> "Settings":
        if self.environment == "production":
            key = self.api_key.get_secret_value() if self.api_key else ""
            if key.strip().lower() in PLACEHOLDER_SECRETS:
                raise ValueError("API_KEY must be set to a real secret when ENVIRONMENT=production")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
