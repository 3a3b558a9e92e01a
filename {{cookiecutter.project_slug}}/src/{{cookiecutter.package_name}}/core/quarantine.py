"""Feedback judged row by row against the data's expectations: why a row may not teach the next model, if it may not.

Feedback is user input. A row is kept for training only when every value is one the training data could have held:
the right type, a known category, a number inside the range seen at ingest (widened by `data.range_tolerance`), a
missing value only where the training data had some, and a label the model knows.
"""

import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

import numpy as np

from .model_inputs import Range
from .schema import MISSING_SLACK, ColumnExpectation, Expectations, TargetExpectation


def is_number(value: Any) -> TypeGuard[int | float]:
    # bool is an int subclass in Python, but true/false is not a measurement.
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def feature_problem(name: str, value: Any, expected: ColumnExpectation, allowed: Range | None) -> str | None:
    """Why this value of this feature is not one the training data could have held; None when it is."""
    if is_missing(value):
        # max_missing is the share seen at ingest plus the slack: at the slack itself, the column was never missing.
        if expected.max_missing <= MISSING_SLACK:
            return f"{name!r} is missing, and it never was in the training data"
        return None
    if expected.kind == "numeric":
        if not is_number(value):
            return f"{name!r} should be a number, got {value!r}"
        if not math.isfinite(value):
            return f"{name!r} is {value}, not a finite number"
        if allowed is not None and not allowed[0] <= value <= allowed[1]:
            return f"{name!r} = {value:.6g} is outside its allowed range [{allowed[0]:.6g}, {allowed[1]:.6g}]"
        return None
    if expected.categories is not None and str(value) not in expected.categories:
        return f"{name!r} = {value!r} is not one of its {len(expected.categories)} known categories"
    return None


def target_problem(actual: Any, expected: TargetExpectation) -> str | None:
    """Why this label cannot be learned from; None when it can."""
    if is_missing(actual):
        return f"target {expected.name!r} is missing"
    if expected.classes is not None:
        known = [str(label) for label in expected.classes]
        key = str(int(actual)) if isinstance(actual, float) and actual.is_integer() else str(actual)
        return None if key in known else f"target {expected.name!r} = {actual!r} is not a known class"
    if not is_number(actual) or not math.isfinite(actual):
        return f"target {expected.name!r} should be a finite number, got {actual!r}"
    return None


def row_problems(
    features: Mapping[str, Any], actual: Any, expectations: Expectations, ranges: Mapping[str, Range]
) -> list[str]:
    """Every reason this feedback row is refused (empty when it may be trained on)."""
    unexpected = sorted(set(features) - set(expectations.features))
    problems = [f"unexpected features: {', '.join(map(repr, unexpected))}"] if unexpected else []
    for name, expected in expectations.features.items():
        found = feature_problem(name, features.get(name), expected, ranges.get(name))
        if found is not None:
            problems.append(found)
    found = target_problem(actual, expectations.target)
    return problems if found is None else [*problems, found]


# What a numeric feature holds once validated (the API's strict numbers, a file's values): these fit a float matrix.
MATRIX_TYPES = frozenset({float, int, type(None)})


def outside_range(features: Mapping[str, Any], ranges: Mapping[str, Range]) -> list[str]:
    """The numeric features of one record whose value lies outside its allowed range. A missing value (null or NaN)
    is never outside: it is judged as missing (feature_problem)."""
    return [
        name
        for name, (low, high) in ranges.items()
        if is_number(value := features.get(name)) and not is_missing(value) and not low <= value <= high
    ]


def out_of_range(records: Sequence[Mapping[str, Any]], ranges: Mapping[str, Range]) -> list[list[str]]:
    """`outside_range` of each record of a batch (the service flags these in its log), in one comparison over the
    batch's values: a Python test per value of every record cost close to the model call itself.

    A batch holding anything else than numbers and nulls in a ranged feature (text, a bool), or an integer too
    large for a float, is judged record by record, by the same rule.
    """
    names = list(ranges)
    values = [record.get(name) for record in records for name in names]
    if not names or not set(map(type, values)) <= MATRIX_TYPES:
        return [outside_range(record, ranges) for record in records]
    try:
        matrix = np.array(values, dtype=np.float64).reshape(len(records), len(names))
    except OverflowError:
        return [outside_range(record, ranges) for record in records]
    bounds = np.array(list(ranges.values()), dtype=np.float64)
    # NaN, what a null becomes, compares False both ways: a missing value is never flagged.
    flagged = (matrix < bounds[:, 0]) | (matrix > bounds[:, 1])
    found: list[list[str]] = [[] for _ in records]
    # Row by row, and within a row in the ranges' order, as outside_range lists them.
    rows, columns = np.nonzero(flagged)
    for row, column in zip(rows.tolist(), columns.tolist(), strict=True):
        found[row].append(names[column])
    return found
