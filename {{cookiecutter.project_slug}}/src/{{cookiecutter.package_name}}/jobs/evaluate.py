"""Score the trained model on the test split: metrics and plots for DVC, the same added to the MLflow run."""

import joblib

from ..core.metrics import predictions_frame, roc_frame, rounded, score
from ..io import figures
from ..io.datasets import read_frame, write_frame
from ..io.tracking import log_evaluation
from ..params import Params, load_params
from ..settings import Settings, find_project_root, get_settings
from .context import METRICS, MODEL, PREDICTIONS, ROC, RUN, TEST, Paths, load_expectations, read_json, say, write_json


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
    return metrics


def main() -> None:
    evaluate(load_params(), get_settings(), Paths(find_project_root()))


if __name__ == "__main__":
    main()
