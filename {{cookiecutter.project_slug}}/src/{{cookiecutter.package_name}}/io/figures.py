"""Static images of the evaluation plots for the MLflow run (DVC renders its own from the CSV files)."""

import matplotlib

matplotlib.use("Agg")  # no display: render to files only

import pandas as pd
from matplotlib.figure import Figure


def confusion_figure(predictions: pd.DataFrame) -> Figure:
    """Counts of (actual, predicted) label pairs as an annotated grid."""
    counts = pd.crosstab(predictions["actual"].astype(str), predictions["predicted"].astype(str))
    labels = sorted(set(counts.index) | set(counts.columns))
    counts = counts.reindex(index=labels, columns=labels, fill_value=0)
    figure = Figure(figsize=(4.5, 4))
    axes = figure.subplots()
    axes.imshow(counts.to_numpy(), cmap="Blues")
    for row, actual in enumerate(labels):
        for column, predicted in enumerate(labels):
            axes.text(column, row, str(counts.loc[actual, predicted]), ha="center", va="center")
    axes.set(xticks=range(len(labels)), yticks=range(len(labels)), xlabel="predicted", ylabel="actual")
    axes.set_xticklabels(labels)
    axes.set_yticklabels(labels)
    axes.set_title("Confusion matrix (test split)")
    return figure


def roc_figure(roc: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(4.5, 4))
    axes = figure.subplots()
    axes.plot(roc["fpr"], roc["tpr"])
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axes.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve (test split)")
    return figure


def scatter_figure(predictions: pd.DataFrame, x: str, y: str, title: str) -> Figure:
    figure = Figure(figsize=(4.5, 4))
    axes = figure.subplots()
    axes.scatter(predictions[x], predictions[y], s=8, alpha=0.6)
    axes.set(xlabel=x, ylabel=y, title=title)
    return figure
