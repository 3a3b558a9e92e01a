"""Model cards on disk and in MLflow: the pipeline's copy, the copy logged to the version's run, and its facts."""

import os
from importlib.metadata import PackageNotFoundError, metadata
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from ..core.model_card import CARD, Registration
from ..settings import Settings
from .tracking import connect

PACKAGE = __name__.split(".")[0]


def package_facts() -> tuple[str, str]:
    """The project's description and license, as pyproject.toml states them (one source of truth for both)."""
    try:
        found = metadata(PACKAGE)
    except PackageNotFoundError:
        return "No description: install the project (`make install`) so its metadata can be read.", "unknown"
    fields = found.json
    return str(fields.get("summary", "")), str(fields.get("license") or fields.get("license_expression") or "unknown")


def write_card(path: Path, card: str) -> Path:
    """Write through a partial file and an atomic rename, so that a reader (the service) never sees half a card."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(card, encoding="utf-8", newline="\n")
    os.replace(partial, path)
    return path


def registration(settings: Settings, run: dict[str, str]) -> Registration:
    """The registered version and run of models/run.json, with the run's lineage tags."""
    connect(settings)
    tags = MlflowClient().get_run(run["run_id"]).data.tags
    return Registration(version=run["version"], run_id=run["run_id"], tags=dict(tags))


def log_card(settings: Settings, run_id: str, card: str) -> None:
    """Log (or replace) MODEL_CARD.md at the root of the run's artifacts, beside the model."""
    connect(settings)
    MlflowClient().log_text(run_id, card, CARD)


def fetch_card(settings: Settings, run_id: str) -> str | None:
    """The card logged to a run, or None for a version registered before cards existed."""
    connect(settings)
    return read_run_card(run_id)


def read_run_card(run_id: str) -> str | None:
    """The card logged to a run, from the tracking store MLflow is connected to (the served model's loader uses it)."""
    try:
        return mlflow.artifacts.load_text(f"runs:/{run_id}/{CARD}")
    except (MlflowException, OSError):
        return None
