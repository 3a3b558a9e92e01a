"""Each batch scored is an MLflow run of the `<model name>-scoring` experiment, tagged with the model version."""

from pathlib import Path
from typing import Any

import mlflow

from ..settings import Settings
from .tracking import connect

COUNTS = ("rows_in", "scored", "rejected", "seconds", "rows_per_second")


def scoring_experiment(model_name: str) -> str:
    return f"{model_name}-scoring"


def log_batch(settings: Settings, model: Any, summary: dict[str, Any], summary_file: Path) -> str:
    """Log one batch: its counts as metrics, its input, output and engine as params, the model as tags."""
    experiment_id = connect(settings.model_copy(update={"mlflow_experiment": scoring_experiment(model.name)}))
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"score v{model.version}") as run:
        mlflow.set_tags({"model_name": model.name, "model_version": model.version, "model_run_id": model.run_id or ""})
        mlflow.log_params({key: summary[key] for key in ("input", "output", "engine")})
        mlflow.log_metrics({key: float(summary[key]) for key in COUNTS})
        mlflow.log_artifact(str(summary_file))
    return str(run.info.run_id)
