"""Score the trained model on the test split: metrics and plots for DVC, the same added to the MLflow run."""

from typing import Any

import joblib
import pandas as pd

from ..core.metrics import predictions_frame, roc_frame, rounded, score
from ..core.model_card import CardFacts, render_card, slice_metrics
from ..core.schema import Expectations
from ..io import card_store, figures
from ..io.datasets import read_frame, write_frame
from ..io.lineage import data_hashes
from ..io.tracking import log_evaluation
from ..params import Params, load_params
from ..settings import Settings, find_project_root, get_settings
from ..user_errors import run_job
from .context import (
    METRICS,
    MODEL,
    PREDICTIONS,
    RAW,
    ROC,
    RUN,
    TEST,
    TRAIN,
    Paths,
    load_expectations,
    read_json,
    say,
    write_json,
)

# The pipeline's card (a stage output, byte-identical across identical runs); the run gets a copy naming its version.
CARD = "models/MODEL_CARD.md"


def evaluate(params: Params, settings: Settings, paths: Paths) -> dict[str, float]:
    """Write reports/metrics.json, reports/predictions.csv (and reports/roc.csv); return the test metrics."""
    expectations = load_expectations(paths)
    model = joblib.load(paths / MODEL)
    test = read_frame(paths / TEST, expectations)
    features, actual = test.drop(columns=params.data.target), test[params.data.target]
    say("evaluate", f"scoring {len(test)} test rows")
    metrics = rounded(score(params.task, model, features, actual))
    write_json(metrics, paths / METRICS)
    say("evaluate", "test metrics: " + ", ".join(f"{name} {value:.4f}" for name, value in metrics.items()))

    predictions = predictions_frame(actual, model.predict(features))
    write_frame(predictions, paths / PREDICTIONS)
    if params.task == "classification":
        roc = roc_frame(actual, model.predict_proba(features), list(model.classes_))
        write_frame(roc, paths / ROC)
        plots = {"confusion_matrix": figures.confusion_figure(predictions), "roc": figures.roc_figure(roc)}
    else:
        plots = {
            "predicted_vs_actual": figures.scatter_figure(predictions, "actual", "predicted", "Predicted vs actual"),
            "residuals": figures.scatter_figure(predictions, "predicted", "residual", "Residuals"),
        }
    run = read_json(paths / RUN)
    log_evaluation(settings, run, {f"test_{name}": value for name, value in metrics.items()}, plots)
    say("evaluate", f"logged test metrics and {len(plots)} plots to MLflow run {run['run_id']}")
    facts = card_facts(params, settings, paths, expectations, metrics, test, model)
    card_store.write_card(paths / CARD, render_card(facts))
    card_store.log_card(settings, run["run_id"], render_card(facts, card_store.registration(settings, run)))
    say("evaluate", f"wrote {CARD} ({len(facts.slices)} slices) and logged it to the run")
    return metrics


def card_facts(
    params: Params,
    settings: Settings,
    paths: Paths,
    expectations: Expectations,
    metrics: dict[str, float],
    test: pd.DataFrame,
    model: Any,
) -> CardFacts:
    """What the model card states, from the pipeline's files: data, expectations, params and the test split."""
    description, license_name = card_store.package_facts()
    hashes, _ = data_hashes(paths.root, {"raw": RAW, "train": TRAIN, "test": TEST})
    train_rows = len(read_frame(paths / TRAIN, expectations))
    features, actual = test.drop(columns=params.data.target), test[params.data.target]
    return CardFacts(
        model_name=settings.model_name,
        description=description,
        license=license_name,
        task=params.task,
        target=params.data.target,
        family=params.train.model,
        hyperparameters=dict(params.train.hyperparameters),
        source=params.data.source,
        rows={"train": train_rows, "test": len(test)},
        hashes=hashes,
        expectations=expectations,
        test_metrics=metrics,
        slices=slice_metrics(params.task, model, features, actual, expectations.kinds),
    )


def main() -> None:
    evaluate(load_params(), get_settings(), Paths(find_project_root()))


if __name__ == "__main__":
    run_job(main, "evaluate")
