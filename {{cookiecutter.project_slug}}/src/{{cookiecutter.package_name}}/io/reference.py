"""The monitoring reference: the served version, its test metrics, and the exact data it was trained and tested on."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
from mlflow import MlflowClient

from ..core.features import Kind, as_text
from ..core.model_inputs import kinds_of
from ..core.model_uri import parse_model_uri
from ..params import Task
from ..settings import Settings
from .lineage import file_md5

# The gate's record of the candidate's score on recent feedback (jobs/promote.py, Decision.record).
RECENT = "gate.candidate_recent_"
# Where a split usually is: the pipeline's split, or the training data `retrain` enlarged with feedback.
USUAL = {"train": ("data/processed/train.csv", "data/feedback/train.csv"), "test": ("data/processed/test.csv",)}


@dataclass(frozen=True)
class Champion:
    """A registered version as monitoring sees it: what it takes, what it scored, where its data is."""

    name: str
    version: str
    run_id: str
    task: Task
    target: str
    kinds: dict[str, Kind]
    classes: list[Any]
    test_metrics: dict[str, float]
    # What the promotion gate measured when this version was the candidate: its score on the recent feedback slice
    # it never trained on, and that slice's size (both empty/0 when no recent slice was judged).
    recent_metrics: dict[str, float]
    recent_rows: int
    tags: dict[str, str]
    pipeline: Any


def load_champion(settings: Settings, default_target: str) -> Champion:
    """Resolve MODEL_URI (the @champion alias by default) to one version and load it with its run."""
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    client = MlflowClient()
    name, alias, version = parse_model_uri(settings.model_uri)
    registered = (
        client.get_model_version_by_alias(name, alias) if alias else client.get_model_version(name, str(version))
    )
    if registered.run_id is None:
        raise LookupError(f"{name} version {registered.version} has no run: monitoring needs its lineage tags")
    uri = f"models:/{name}/{registered.version}"
    signature = mlflow.models.get_model_info(uri).signature
    if signature is None:
        raise ValueError(f"{uri} has no signature, so its feature columns are unknown")
    run = client.get_run(registered.run_id)
    tags = dict(run.data.tags)
    pipeline = mlflow.sklearn.load_model(uri)
    task: Task = "regression" if tags.get("task") == "regression" else "classification"
    return Champion(
        name=name,
        version=str(registered.version),
        run_id=registered.run_id,
        task=task,
        target=tags.get("target", default_target),
        kinds=kinds_of({str(c.name): c.type.name for c in signature.inputs.inputs}),
        classes=np.asarray(getattr(pipeline, "classes_", [])).tolist(),
        test_metrics={
            key.removeprefix("test_"): float(value)
            for key, value in run.data.metrics.items()
            if key.startswith("test_")
        },
        recent_metrics={
            key.removeprefix(RECENT): float(value) for key, value in run.data.metrics.items() if key.startswith(RECENT)
        },
        recent_rows=int(tags.get("gate.recent_rows", "0") or 0),
        tags=tags,
        pipeline=pipeline,
    )


def dvc_cache_path(root: Path, md5: str) -> Path:
    """Where DVC 3 keeps a file with this md5 in the project's default cache."""
    return root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


def locate(root: Path, md5: str, usual: tuple[str, ...]) -> Path:
    """The file with this md5: a usual path when it still holds those bytes, else its copy in the DVC cache."""
    for relative in usual:
        if (root / relative).is_file() and file_md5(root / relative) == md5:
            return root / relative
    cached = dvc_cache_path(root, md5)
    if cached.is_file():
        return cached
    raise FileNotFoundError(
        f"the data with md5 {md5} (lineage of the model) is neither in {', '.join(usual)} nor in the DVC cache: "
        "`dvc pull` it, or `git checkout` the commit of the model and `dvc checkout`"
    )


def read_split(champion: Champion, root: Path, split: str) -> pd.DataFrame:
    """The train or test split the champion's run recorded (tag lineage.data.<split>), typed by its signature."""
    md5 = champion.tags.get(f"lineage.data.{split}")
    if not md5:
        raise LookupError(f"run {champion.run_id} has no lineage.data.{split} tag: was it trained by the pipeline?")
    categorical = [name for name, kind in champion.kinds.items() if kind == "categorical"]
    frame = pd.read_csv(locate(root, md5, USUAL[split]), dtype=dict.fromkeys(categorical, "str"))
    for name in categorical:
        frame[name] = as_text(frame[name])
    return frame


def with_predictions(champion: Champion, frame: pd.DataFrame) -> pd.DataFrame:
    """The split with the champion's prediction (and the second class's probability for two classes)."""
    features = frame[list(champion.kinds)]
    scored = frame.assign(prediction=champion.pipeline.predict(features))
    if champion.task == "classification" and len(champion.classes) == 2:
        scored["probability"] = champion.pipeline.predict_proba(features)[:, 1]
    return scored
