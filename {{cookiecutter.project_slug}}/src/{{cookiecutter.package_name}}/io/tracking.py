"""MLflow: the experiment, the training run, the registered model and its aliases.

What training promises to serving and monitoring (keep this true when changing the pipeline):

- Registry: each `train` registers a new version of `settings.model_name`. `promote` moves the alias `champion` (what
  serving loads, `models:/<name>@champion`) and points `challenger` at a newer version that did not win. Every alias
  move goes through `set_alias`, which records it in registry tags (core.alias_history): `history` reads them back.
- Model: `mlflow.sklearn.load_model(uri)` returns a scikit-learn Pipeline that takes a pandas DataFrame with the
  ORIGINAL raw feature columns (the data's columns minus the target, names unchanged, spaces and all). Numeric
  columns are float64, categorical ones str/object; None/NaN are allowed anywhere (imputed), unknown categories
  encode as zeros, extra columns are ignored. The first step coerces types, so ints for floats are fine too.
- Classification models have `predict_proba`, and `classes_` holds the original labels (ints or strings).
- Structure: Pipeline([("preprocess", ColumnTransformer), ("model", estimator)]); each column group starts with a
  FunctionTransformer of `core.features.to_numbers` / `to_text` that accepts a DataFrame or a plain 2-D array.
  Saved with cloudpickle, which refers to those functions by name: loading needs this package importable.
- The model's metadata holds `feature_ranges`: numeric feature -> [low, high], the range seen at ingest widened by
  `data.range_tolerance` (the bounds retrain quarantines feedback by); serving flags requests outside them.
- The signature is inferred from the training features (ColSpec double for numeric, string for categorical;
  optional where missing values were seen) and the predictions; an input example of five rows is logged.
- The run logs params (`task`, `data.*`, `split.*`, `train.*`), train metrics `train_<name>`, test metrics
  `test_<name>` (accuracy, f1, roc_auc or rmse, mae, r2), plots under `plots/`, and tags `task`, `target`,
  `lineage.git_commit`, `lineage.git_dirty`, `lineage.data.raw`, `lineage.data.train`, `lineage.data.test` (md5),
  and `lineage.dvc_experiment` when a `dvc exp run` trained it.
"""

import getpass
import logging
import os
import subprocess
import time
import warnings
from collections.abc import Mapping
from importlib.metadata import version
from typing import TYPE_CHECKING, Any, cast

import mlflow
import mlflow.sklearn
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

from ..core.alias_history import (
    Move,
    actor,
    move_tag_key,
    move_tag_value,
    next_sequence,
    parse_move,
    pending_tag_key,
    timeline,
    utc_now,
    version_tags,
)
from ..settings import Settings
from .registry_errors import as_user_error
from .registry_login import use_login

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CHAMPION, CHALLENGER = "champion", "challenger"
# Pinned from this environment: letting MLflow infer requirements re-imports the model and costs seconds per run.
REQUIREMENTS = ("mlflow", "scikit-learn", "pandas", "numpy", "scipy", "cloudpickle")


class _ExpectedWarnings(logging.Filter):
    """Drop two MLflow warnings that are about choices made on purpose here.

    - cloudpickle rather than skops: the model comes from this pipeline and lives in this project's registry, so it is
      as trusted as models/model.pkl; skops would add seconds to train, promote and every service start (it imports
      all of scikit-learn to vet types).
    - no pip in the venv (uv does not install it): the requirements are pinned explicitly, pip's version is moot.
    """

    PREFIXES = ("Saving scikit-learn models in the pickle or cloudpickle format", "Failed to resolve installed pip")

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.PREFIXES)


for _logger in ("mlflow.sklearn", "mlflow.utils.environment"):
    logging.getLogger(_logger).addFilter(_ExpectedWarnings())


def connect(settings: Settings) -> str:
    """Point MLflow at the tracking store and return the experiment id, creating the experiment if needed."""
    use_login(settings)
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    experiment = MlflowClient().get_experiment_by_name(settings.mlflow_experiment)
    if experiment is not None:
        return str(experiment.experiment_id)
    # A server stores artifacts where it is configured to; a local database stores them next to the project.
    remote = settings.mlflow_tracking_uri.startswith(("http://", "https://", "databricks"))
    location = None if remote else settings.mlflow_artifact_root.resolve().as_uri()
    return MlflowClient().create_experiment(settings.mlflow_experiment, artifact_location=location)


def pinned_requirements() -> list[str]:
    return [f"{name}=={version(name)}" for name in REQUIREMENTS]


def log_training(
    settings: Settings,
    model: Any,
    features: pd.DataFrame,
    params: dict[str, Any],
    metrics: dict[str, float],
    tags: dict[str, str],
    metadata: dict[str, Any] | None = None,
) -> dict[str, str]:
    """Log a fitted pipeline with its params, metrics, tags and metadata, register it, and return run, model and
    version ids."""
    experiment_id = connect(settings)
    with warnings.catch_warnings():
        # Integer labels are a fine output type; the hint is about integer inputs, which we never have (float64).
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        # cast: once pyspark is installed (make install-spark), MLflow's annotation of model_output omits a Series.
        predictions = cast(Any, pd.Series(model.predict(features), name="prediction"))
        signature = infer_signature(features, predictions)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params(params)
        mlflow.set_tags(tags)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=signature,
            input_example=features.head(5),
            pip_requirements=pinned_requirements(),
            registered_model_name=settings.model_name,
            serialization_format="cloudpickle",
            metadata=metadata,
        )
        mlflow.log_metrics(metrics, model_id=info.model_id)
    return {"run_id": run.info.run_id, "model_id": info.model_id, "version": str(info.registered_model_version)}


def log_evaluation(
    settings: Settings, run: dict[str, str], metrics: dict[str, float], figures: dict[str, "Figure"]
) -> None:
    """Add test metrics and plots to the training run, so one run holds the whole story of a model version."""
    connect(settings)
    # The client API, not `start_run(run_id=...)`: resuming a run fails if another experiment is active in-process.
    client, timestamp = MlflowClient(), int(time.time() * 1000)
    logged = [Metric(name, value, timestamp, 0, model_id=run["model_id"]) for name, value in metrics.items()]
    client.log_batch(run["run_id"], metrics=logged)
    for name, figure in figures.items():
        client.log_figure(run["run_id"], figure, f"plots/{name}.png")


def latest_version(name: str) -> ModelVersion | None:
    """The newest registered version of a model, or None when nothing is registered."""
    versions = MlflowClient().search_model_versions(f"name = '{name}'")
    return max(versions, key=lambda found: int(found.version), default=None)


def version_by_alias(name: str, alias: str) -> ModelVersion | None:
    try:
        return MlflowClient().get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        if as_user_error(exc) is not None:
            raise  # a server that refused the login or did not answer says nothing about the alias
        return None


def set_alias(
    name: str,
    alias: str,
    model_version: str,
    reason: str = "no reason given",
    scores: Mapping[str, float] | None = None,
) -> Move:
    """Point `alias` at a version and record the move (core.alias_history says where): every alias move comes here,
    so a move made by hand (a test restoring a champion, a notebook) is recorded too, only without a reason.

    Three steps, any of which a registry that goes away (or a killed job) can interrupt: the intended move is written
    first (`begin_move`), then the alias moves, then the move is recorded (`finish_move`). A move left half-done is
    finished or dropped by `settle_move`, which this and every command that reads or moves an alias call first."""
    move = begin_move(name, alias, model_version, reason, scores)
    MlflowClient().set_registered_model_alias(name, alias, move.to_version)
    finish_move(name, move)
    return move


def begin_move(
    name: str, alias: str, model_version: str, reason: str, scores: Mapping[str, float] | None = None
) -> Move:
    """Write the intended move as the registered model's `<alias>.pending` tag (from, to, reason, who, scores) and
    return it: until `finish_move`, the registry says what was about to happen."""
    settle_move(name, alias)  # an older half-done move first, else this one would hide it
    before = version_by_alias(name, alias)
    move = Move(
        alias=alias,
        to_version=str(model_version),
        from_version=None if before is None else str(before.version),
        at=utc_now(),
        actor=current_actor(),
        reason=reason,
        scores=dict(scores or {}),
    )
    # Stored as the timeline will hold it (a long reason clipped), so that settle_move records the very same move.
    move = parse_move(alias, move_tag_value(move))
    MlflowClient().set_registered_model_tag(name, pending_tag_key(alias), move_tag_value(move))
    return move


def finish_move(name: str, move: Move) -> None:
    """Record a move whose alias has moved (the version's tags, the timeline's entry), then clear its pending tag.
    Safe to repeat: a move already at the end of the timeline is not recorded twice."""
    client = MlflowClient()
    for key, value in version_tags(move).items():
        client.set_model_version_tag(name, move.to_version, key, value)
    # Read-then-write: two people moving the same alias in the same second could share a sequence number; moves
    # are rare and made by one person or one CI job at a time, which a lock server would be too much to guard.
    tags = client.get_registered_model(name).tags
    if timeline(tags, move.alias)[-1:] != [move]:
        sequence = next_sequence(tags, move.alias)
        client.set_registered_model_tag(name, move_tag_key(move.alias, sequence), move_tag_value(move))
    if pending_tag_key(move.alias) in tags:
        client.delete_registered_model_tag(name, pending_tag_key(move.alias))


def settle_move(name: str, alias: str) -> str | None:
    """Finish or drop a move of `alias` that a command began and did not end; a sentence saying which, or None when
    no move was pending. The alias itself is never moved here: where it points is what happened."""
    try:
        tags = MlflowClient().get_registered_model(name).tags
    except MlflowException as exc:
        if as_user_error(exc) is not None:
            raise
        return None  # no registered model yet: nothing can be pending
    pending = tags.get(pending_tag_key(alias))
    if pending is None:
        return None
    move = parse_move(alias, pending)
    current = version_by_alias(name, alias)
    begun = f"the move of @{alias} to version {move.to_version} that {move.actor} began at {move.at}"
    if current is not None and str(current.version) == move.to_version:
        finish_move(name, move)
        return f"recorded {begun}: the alias had moved, and the history now says so"
    MlflowClient().delete_registered_model_tag(name, pending_tag_key(alias))
    return f"dropped {begun}: the alias never moved, so nothing happened"


def settle_moves(name: str) -> list[str]:
    """settle_move for both aliases: what a command says before it reads or moves them."""
    return [said for alias in (CHAMPION, CHALLENGER) if (said := settle_move(name, alias)) is not None]


def alias_timeline(name: str, alias: str) -> list[Move]:
    """The recorded moves of `alias`, oldest first (empty when the model or its history does not exist)."""
    try:
        tags = MlflowClient().get_registered_model(name).tags
    except MlflowException as exc:
        if as_user_error(exc) is not None:
            raise  # as in version_by_alias: an outage is not an empty history
        return []
    return timeline(tags, alias)


def current_actor() -> str:
    """Who is moving an alias here: see core.alias_history.actor for the rule."""
    try:
        git = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True, timeout=10, check=False)
        git_user = git.stdout.strip() if git.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired):  # no git on this machine
        git_user = None
    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry or LOGNAME
        os_user = "unknown"
    return actor(os.environ, git_user, os_user)


def registered_versions(name: str) -> list[str]:
    """Every registered version number of a model, oldest first."""
    versions = MlflowClient().search_model_versions(f"name = '{name}'")
    return sorted((str(found.version) for found in versions), key=int)


def run_tags(name: str, model_version: str) -> dict[str, str]:
    """The tags of the run that trained a version (empty when it has no run)."""
    client = MlflowClient()
    run_id = client.get_model_version(name, model_version).run_id
    return dict(client.get_run(run_id).data.tags) if run_id else {}


def test_metrics(name: str, model_version: str) -> dict[str, float]:
    """The `test_<metric>` figures of the run that trained a version (empty when it has no run)."""
    client = MlflowClient()
    run_id = client.get_model_version(name, model_version).run_id
    if not run_id:
        return {}
    metrics = client.get_run(run_id).data.metrics
    return {key: float(value) for key, value in metrics.items() if key.startswith("test_")}


def delete_alias(name: str, alias: str) -> None:
    MlflowClient().delete_registered_model_alias(name, alias)


def load_version(name: str, model_version: str) -> Any:
    """The scikit-learn pipeline of a registered version."""
    return mlflow.sklearn.load_model(f"models:/{name}/{model_version}")
