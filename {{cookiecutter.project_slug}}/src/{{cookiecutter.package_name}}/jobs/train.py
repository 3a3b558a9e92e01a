"""Fit the model pipeline on the train split, save it for DVC, log it to MLflow and register a new version."""

from collections.abc import Mapping
from typing import Any

import joblib
import numpy as np

from ..core.metrics import check_metric, rounded, score
from ..core.model import build_model, build_pipeline
from ..core.schema import Expectations
from ..io.datasets import read_frame
from ..io.lineage import data_hashes, dvc_experiment, git_state
from ..io.tracking import log_training
from ..params import Params, load_params
from ..settings import Settings, find_project_root, get_settings
from ..user_errors import run_job
from .context import MODEL, RAW, RUN, TEST, TRAIN, Paths, load_expectations, say, write_json


def flatten(section: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested params as MLflow params: {"train": {"seed": 1}} -> {"train.seed": 1}."""
    flat: dict[str, Any] = {}
    for name, value in section.items():
        if isinstance(value, dict):
            flat |= flatten(value, f"{prefix}{name}.")
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def lineage_tags(params: Params, paths: Paths) -> dict[str, str]:
    commit, dirty = git_state(paths.root)
    hashes, computed = data_hashes(paths.root, {"raw": RAW, "train": TRAIN, "test": TEST})
    if computed:
        say("train", f"md5 of {', '.join(computed)} computed from the files (not yet recorded in dvc.lock)")
    return {
        "task": params.task,
        "target": params.data.target,
        "lineage.git_commit": commit,
        "lineage.git_dirty": str(dirty).lower(),
        **{f"lineage.data.{name}": md5 for name, md5 in hashes.items()},
        # Under `dvc exp run` the commit is the experiment's baseline; the name finds it in `dvc exp show`.
        **({"lineage.dvc_experiment": experiment} if (experiment := dvc_experiment()) else {}),
    }


def allowed_ranges(expectations: Expectations, params: Params) -> dict[str, list[float]]:
    """The numeric bounds retrain screens feedback by, as the model's metadata (lists: MLmodel is YAML)."""
    return {name: [low, high] for name, (low, high) in expectations.allowed_ranges(params.data.range_tolerance).items()}


def check_training_params(params: Params) -> None:
    """The params that only scikit-learn can judge (model family, hyperparameters and their ranges) and the promotion
    metric, checked before any data is read or written: a version that promote cannot judge must not be registered."""
    check_metric(params.task, params.promote.metric)
    build_model(params.task, params.train.model, params.train.hyperparameters, params.train.seed)


def train(
    params: Params,
    settings: Settings,
    paths: Paths,
    sample_weight: "np.ndarray | None" = None,
    tags: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Train, save models/model.pkl and models/run.json, and return the MLflow run, model and version ids;
    `sample_weight` (one per row of the train split, retrain's recency weights) makes some rows count more, and
    `tags` go on the run with the lineage, before the version is registered (retrain's own)."""
    check_training_params(params)
    expectations = load_expectations(paths)
    frame = read_frame(paths / TRAIN, expectations)
    features, target = frame.drop(columns=params.data.target), frame[params.data.target]
    model = build_pipeline(
        params.task, params.train.model, params.train.hyperparameters, params.train.seed, expectations.kinds
    )
    say("train", f"fitting {params.train.model} on {len(frame)} rows and {len(features.columns)} features")
    model.fit(features, target, **({} if sample_weight is None else {"model__sample_weight": sample_weight}))
    metrics = rounded(score(params.task, model, features, target))
    say("train", "train metrics: " + ", ".join(f"{name} {value:.4f}" for name, value in metrics.items()))
    (paths / MODEL).parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, paths / MODEL)
    say("train", f"logging to MLflow at {settings.mlflow_tracking_uri} and registering {settings.model_name}")
    logged = params.model_dump(include={"task", "data", "split", "train"})
    run = log_training(
        settings,
        model,
        features,
        params=flatten(logged),
        metrics={f"train_{name}": value for name, value in metrics.items()},
        tags=lineage_tags(params, paths) | dict(tags or {}),
        metadata={"feature_ranges": allowed_ranges(expectations, params)},
    )
    write_json(run, paths / RUN)
    say("train", f"registered {settings.model_name} version {run['version']} (run {run['run_id']})")
    return run


def main() -> None:
    train(load_params(), get_settings(), Paths(find_project_root()))


if __name__ == "__main__":
    run_job(main, "train")
