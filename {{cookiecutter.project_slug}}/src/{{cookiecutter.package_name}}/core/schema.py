"""Expectations about the raw data, inferred once and kept in git, and the readable list of what breaks them."""

import difflib
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ..params import Task
from ..user_errors import UserError
from .features import Kind, as_text, column_kind, not_numbers

# Up to this many distinct values a text column's categories are listed and enforced; beyond, it is free text.
MAX_LISTED_CATEGORIES = 100
# The allowed share of missing values is the share seen at inference plus this slack.
MISSING_SLACK = 0.05


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnExpectation(Frozen):
    kind: Kind
    max_missing: float = Field(ge=0.0, le=1.0, description="Largest allowed share of missing values")
    categories: list[str] | None = Field(default=None, description="Allowed values; null allows any value")
    # Optional, so that an expectations.json written before ranges were inferred still loads (it checks no range).
    minimum: float | None = Field(default=None, description="Smallest value seen at ingest (numeric)")
    maximum: float | None = Field(default=None, description="Largest value seen at ingest (numeric)")


class TargetExpectation(Frozen):
    name: str
    dtype: Literal["integer", "float", "string"]
    classes: list[int] | list[str] | None = Field(default=None, description="Known labels (classification)")


class Expectations(Frozen):
    task: Task
    target: TargetExpectation
    features: dict[str, ColumnExpectation]

    @property
    def kinds(self) -> dict[str, Kind]:
        """Feature name -> numeric or categorical, in column order."""
        return {name: column.kind for name, column in self.features.items()}

    def allowed_ranges(self, tolerance: float) -> dict[str, tuple[float, float]]:
        """Numeric feature -> [low, high]: the range seen at ingest, widened by `tolerance` times its width."""
        ranges = {}
        for name, column in self.features.items():
            if column.kind == "numeric" and column.minimum is not None and column.maximum is not None:
                # A constant column has no width: its own magnitude (or 1) keeps some room around the value.
                width = (column.maximum - column.minimum) or max(abs(column.maximum), 1.0)
                ranges[name] = (column.minimum - tolerance * width, column.maximum + tolerance * width)
        return ranges


def tidy_target(frame: pd.DataFrame, target: str, task: Task) -> tuple[pd.DataFrame, int]:
    """Drop rows without a target and give the target one clean type; return the frame and the rows dropped."""
    if target not in frame.columns:
        columns = [str(name) for name in frame.columns]
        close = difflib.get_close_matches(target, columns, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        shown = ", ".join(map(repr, columns[:10])) + (f" and {len(columns) - 10} more" if len(columns) > 10 else "")
        raise UserError(
            f"params.yaml: data.target is {target!r}, which is not a column of the data; {hint}set it to one of {shown}"
        )
    if len(frame.columns) < 2:
        raise UserError(f"the data has no columns besides the target {target!r}: add the features to learn from")
    labelled = frame[frame[target].notna()].reset_index(drop=True)
    values = labelled[target]
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if task == "regression":
        if not numeric:
            text = values[pd.to_numeric(values, errors="coerce").isna()]
            raise UserError(
                f"task is regression but target {target!r} holds text (such as {text.iloc[0]!r}): "
                "set task: classification in params.yaml to predict categories, or clean the column"
            )
        labelled[target] = values.astype("float64")
    elif numeric:
        if not (values == values.round()).all():
            raise UserError(
                f"task is classification but target {target!r} holds fractional numbers: "
                "set task: regression in params.yaml to predict a number"
            )
        labelled[target] = values.astype("int64")
    else:
        labelled[target] = as_text(values)
    return labelled, len(frame) - len(labelled)


def tidy_features(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """Booleans, categories and other non-numeric feature columns become text, so a CSV round trip keeps them."""
    tidy = frame.copy()
    for name in tidy.columns:
        if name != target and column_kind(tidy[name]) == "categorical":
            tidy[name] = as_text(tidy[name])
    return tidy


def infer_expectations(frame: pd.DataFrame, target: str, task: Task) -> Expectations:
    """Describe a tidy frame: kind, categories and missing share of each feature; type and labels of the target."""
    features = {}
    for name in frame.columns:
        if name == target:
            continue
        series = frame[name]
        kind = column_kind(series)
        distinct = sorted(series.dropna().astype(str).unique())
        listed = kind == "categorical" and len(distinct) <= MAX_LISTED_CATEGORIES
        numbers = pd.to_numeric(series, errors="coerce").dropna() if kind == "numeric" else pd.Series([])
        features[str(name)] = ColumnExpectation(
            kind=kind,
            max_missing=round(min(1.0, float(series.isna().mean()) + MISSING_SLACK), 4),
            categories=distinct if listed else None,
            minimum=float(numbers.min()) if len(numbers) else None,
            maximum=float(numbers.max()) if len(numbers) else None,
        )
    labels = frame[target]
    dtype: Literal["integer", "float", "string"] = (
        "float" if pd.api.types.is_float_dtype(labels) else "integer" if column_kind(labels) == "numeric" else "string"
    )
    classes = sorted(labels.unique().tolist()) if task == "classification" else None
    return Expectations(
        task=task, target=TargetExpectation(name=target, dtype=dtype, classes=classes), features=features
    )


def check_expectations(frame: pd.DataFrame, expected: Expectations, target: str, task: Task) -> list[str]:
    """Every way the frame breaks the expectations, one readable sentence each (empty when all is well)."""
    problems = []
    if expected.task != task:
        problems.append(f"the expectations were inferred for task {expected.task!r}, params.yaml says {task!r}")
    if expected.target.name != target:
        problems.append(f"the expectations are for target {expected.target.name!r}, params.yaml says {target!r}")
    if target not in frame.columns:
        problems.append(f"target column {target!r} is missing")
    else:
        problems += _target_problems(frame[target], expected.target)
    for name, column in expected.features.items():
        if name not in frame.columns:
            problems.append(f"column {name!r} ({column.kind}) is missing")
        else:
            problems += _column_problems(name, frame[name], column)
    unexpected = [str(name) for name in frame.columns if name not in expected.features and name != target]
    if unexpected:
        problems.append(f"unexpected columns: {', '.join(map(repr, unexpected))}")
    return problems


def _examples(values: pd.Series) -> str:
    return ", ".join(repr(value) for value in sorted(values.astype(str).unique())[:5])


def _column_problems(name: str, series: pd.Series, expected: ColumnExpectation) -> list[str]:
    problems = []
    missing = float(series.isna().mean())
    if missing > expected.max_missing:
        allowed = expected.max_missing * 100
        problems.append(f"column {name!r} is {missing * 100:.1f}% missing, more than the allowed {allowed:.1f}%")
    present = series.dropna()
    if expected.kind == "numeric":
        text = present[not_numbers(present)]
        if len(text):
            problems.append(f"column {name!r} should be numeric but has text such as {_examples(text)}")
    elif expected.categories is not None:
        unknown = present[~present.astype(str).isin(expected.categories)]
        if len(unknown):
            problems.append(f"column {name!r} has {len(unknown)} values outside its categories: {_examples(unknown)}")
    return problems


def _target_problems(series: pd.Series, expected: TargetExpectation) -> list[str]:
    name = expected.name
    problems = []
    if series.isna().any():
        problems.append(f"target {name!r} has {int(series.isna().sum())} missing values")
    present = series.dropna()
    if expected.dtype != "string" and not pd.api.types.is_numeric_dtype(present):
        problems.append(
            f"target {name!r} should be numeric ({expected.dtype}) but has text such as {_examples(present)}"
        )
    elif expected.classes is not None:
        unknown = present[~present.astype(str).isin([str(label) for label in expected.classes])]
        if len(unknown):
            problems.append(f"target {name!r} has labels never seen before: {_examples(unknown)}")
    return problems
