"""Feedback rows are judged one by one against the expectations; ranges are inferred at ingest and optional."""

import json
from typing import Any

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.core.quarantine import out_of_range, outside_range, row_problems
from {{ cookiecutter.package_name }}.core.schema import Expectations, infer_expectations, tidy_features, tidy_target

from conftest import CITY, CODE, COUNT, NUMBER, byod_frame

TARGET = "Target?"


@pytest.fixture
def expectations() -> Expectations:
    frame, _ = tidy_target(byod_frame("classification"), TARGET, "classification")
    return infer_expectations(tidy_features(frame, TARGET), TARGET, "classification")


def good_row() -> dict[str, Any]:
    return {NUMBER: 41.5, COUNT: 3.0, CITY: "Lyon", CODE: "75001"}


def test_ranges_are_inferred_for_numbers_only_and_widened_by_the_tolerance(expectations: Expectations) -> None:
    visits = expectations.features[COUNT]
    assert (visits.minimum, visits.maximum) == (0.0, 9.0)
    assert expectations.features[CITY].minimum is None
    assert expectations.allowed_ranges(0.5)[COUNT] == (-4.5, 13.5)
    assert set(expectations.allowed_ranges(0.0)) == {NUMBER, COUNT}


def test_expectations_written_before_ranges_still_load_and_check_no_range(expectations: Expectations) -> None:
    old = json.loads(expectations.model_dump_json())
    for column in old["features"].values():
        del column["minimum"], column["maximum"]
    loaded = Expectations.model_validate(old)
    assert loaded.allowed_ranges(1.0) == {}
    assert row_problems(good_row() | {COUNT: 1e300}, "stayed", loaded, loaded.allowed_ranges(1.0)) == []


def test_a_row_like_the_training_data_passes(expectations: Expectations) -> None:
    assert row_problems(good_row(), "churned", expectations, expectations.allowed_ranges(1.0)) == []
    # Missing where the training data had missing values is fine: the model imputes it.
    assert row_problems(good_row() | {NUMBER: None}, "stayed", expectations, expectations.allowed_ranges(1.0)) == []


@pytest.mark.parametrize(
    ("changes", "actual", "reason"),
    [
        ({COUNT: 1e16}, "stayed", "'visits/month' = 1e+16 is outside its allowed range [-9, 18]"),
        ({COUNT: -1.7e308}, "stayed", "outside its allowed range"),
        ({COUNT: float("inf")}, "stayed", "not a finite number"),
        ({COUNT: "three"}, "stayed", "'visits/month' should be a number, got 'three'"),
        ({COUNT: True}, "stayed", "should be a number"),
        ({COUNT: None}, "stayed", "'visits/month' is missing, and it never was in the training data"),
        ({CITY: "Atlantis"}, "stayed", "'home city' = 'Atlantis' is not one of its 3 known categories"),
        ({"extra": 1}, "stayed", "unexpected features: 'extra'"),
        ({}, "maybe", "target 'Target?' = 'maybe' is not a known class"),
        ({}, None, "target 'Target?' is missing"),
    ],
)
def test_a_row_that_breaks_an_expectation_is_refused_with_the_reason(
    expectations: Expectations, changes: dict[str, Any], actual: Any, reason: str
) -> None:
    problems = row_problems(good_row() | changes, actual, expectations, expectations.allowed_ranges(1.0))
    assert len(problems) == 1
    assert reason in problems[0]


def test_a_regression_target_must_be_a_finite_number() -> None:
    frame, _ = tidy_target(byod_frame("regression"), TARGET, "regression")
    expectations = infer_expectations(tidy_features(frame, TARGET), TARGET, "regression")
    ranges = expectations.allowed_ranges(1.0)
    assert row_problems(good_row(), 12.5, expectations, ranges) == []
    assert "finite number" in row_problems(good_row(), float("inf"), expectations, ranges)[0]
    assert "finite number" in row_problems(good_row(), "12", expectations, ranges)[0]


def test_out_of_range_names_the_numeric_features_outside(expectations: Expectations) -> None:
    ranges = expectations.allowed_ranges(1.0)
    assert out_of_range([good_row()], ranges) == [[]]
    assert out_of_range([good_row() | {NUMBER: -1e9, COUNT: None}], ranges) == [[NUMBER]]
    assert out_of_range([good_row() | {COUNT: 1e9, NUMBER: float("inf")}], ranges) == [[NUMBER, COUNT]]


# What a ranged feature may hold in a batch: validated numbers and nulls (the matrix), or a file's anything (one by
# one). Each batch gives what the per-record rule gives for each of its records.
BATCHES = {
    "numbers and nulls": [{NUMBER: 41.5, COUNT: 3}, {NUMBER: -1e9, COUNT: None}, {NUMBER: None, COUNT: 1e9}],
    "infinities": [{NUMBER: float("inf"), COUNT: float("-inf")}, {NUMBER: 41.5, COUNT: 3.0}],
    "NaN is missing, never outside": [{NUMBER: float("nan"), COUNT: 3.0}],
    "a feature left out": [{COUNT: 1e9}, {}],
    "text and a bool": [{NUMBER: "1e9", COUNT: True}, {NUMBER: -1e9, COUNT: 3.0}],
    "an integer beyond float": [{NUMBER: 10**400, COUNT: 3}, {NUMBER: 41.5, COUNT: -(10**400)}],
    "no record": [],
}


@pytest.mark.parametrize("batch", BATCHES.values(), ids=BATCHES.keys())
def test_a_batch_is_flagged_as_each_of_its_records_is(expectations: Expectations, batch: list[dict[str, Any]]) -> None:
    ranges = expectations.allowed_ranges(1.0)
    assert out_of_range(batch, ranges) == [outside_range(record, ranges) for record in batch]


def test_the_per_record_rule_on_the_batches_edges(expectations: Expectations) -> None:
    ranges = expectations.allowed_ranges(1.0)
    assert outside_range({NUMBER: float("nan"), COUNT: None}, ranges) == []
    assert outside_range({NUMBER: "1e9", COUNT: True}, ranges) == []
    assert outside_range({NUMBER: 10**400, COUNT: -(10**400)}, ranges) == [NUMBER, COUNT]
    assert out_of_range([{NUMBER: 41.5}], {}) == [[]]


def test_a_frame_like_the_original_meets_its_ranges(expectations: Expectations) -> None:
    frame, _ = tidy_target(byod_frame("classification", seed=5), TARGET, "classification")
    rows = tidy_features(frame, TARGET).drop(columns=TARGET).astype(object)
    ranges = expectations.allowed_ranges(1.0)
    records = [{str(k): (None if pd.isna(v) else v) for k, v in row.items()} for row in rows.to_dict("records")]
    assert not any(out_of_range(records, ranges))
