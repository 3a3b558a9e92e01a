"""Expectations: tidy the target, infer what the data looks like, and list every way new data differs."""

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.core.schema import check_expectations, infer_expectations, tidy_features, tidy_target
from {{ cookiecutter.package_name }}.user_errors import UserError

from conftest import CITY, CODE, COUNT, NUMBER, byod_frame

TARGET = "Target?"


@pytest.fixture
def tidy() -> pd.DataFrame:
    frame, _ = tidy_target(byod_frame("classification"), TARGET, "classification")
    return tidy_features(frame, TARGET)


def test_rows_without_a_target_are_dropped_and_counted() -> None:
    frame, dropped = tidy_target(byod_frame("regression"), TARGET, "regression")
    assert dropped == 2
    assert frame[TARGET].notna().all()
    assert frame[TARGET].dtype == "float64"


def test_whole_float_labels_become_integers_for_classification() -> None:
    frame, _ = tidy_target(pd.DataFrame({"x": [1, 2, 3], "y": [0.0, 1.0, None]}), "y", "classification")
    assert frame["y"].tolist() == [0, 1]
    assert frame["y"].dtype == "int64"


@pytest.mark.parametrize(
    ("task", "labels", "message"),
    [
        ("classification", [0.5, 1.0], "fractional numbers: set task: regression"),
        ("regression", ["a", "b"], "holds text"),
    ],
)
def test_a_target_that_does_not_fit_the_task_is_refused(task: str, labels: list[object], message: str) -> None:
    with pytest.raises(UserError, match=message):
        tidy_target(pd.DataFrame({"x": [1, 2], "y": labels}), "y", task)  # type: ignore[arg-type]


def test_a_missing_target_column_lists_the_columns() -> None:
    with pytest.raises(UserError, match="'x'"):
        tidy_target(pd.DataFrame({"x": [1]}), "y", "regression")


def test_inferred_expectations_describe_kinds_categories_and_labels(tidy: pd.DataFrame) -> None:
    expectations = infer_expectations(tidy, TARGET, "classification")
    assert expectations.kinds == {NUMBER: "numeric", COUNT: "numeric", CITY: "categorical", CODE: "categorical"}
    assert expectations.features[CITY].categories == ["Lyon", "Nantes", "Paris"]
    assert expectations.features[CODE].categories == ["01000", "44000", "75001"]
    assert 0.05 < expectations.features[NUMBER].max_missing < 0.25
    assert expectations.target.classes == ["churned", "stayed"]
    assert expectations.target.dtype == "string"


def test_data_like_the_original_meets_its_expectations(tidy: pd.DataFrame) -> None:
    expectations = infer_expectations(tidy, TARGET, "classification")
    assert check_expectations(tidy.sample(frac=0.5, random_state=1), expectations, TARGET, "classification") == []


def test_every_violation_is_listed_in_words(tidy: pd.DataFrame) -> None:
    expectations = infer_expectations(tidy, TARGET, "classification")
    changed = tidy.drop(columns=[COUNT]).assign(extra=1)
    changed[CITY] = changed[CITY].where(changed.index > 5, "Tokyo")
    changed[NUMBER] = changed[NUMBER].astype(object).where(changed.index > 0, "forty")
    changed[CODE] = None
    changed.loc[0, TARGET] = "moved"
    problems = "\n".join(check_expectations(changed, expectations, TARGET, "classification"))
    assert f"column {COUNT!r} (numeric) is missing" in problems
    assert "unexpected columns: 'extra'" in problems
    assert "'Tokyo'" in problems
    assert "'forty'" in problems
    assert f"column {CODE!r} is 100.0% missing" in problems
    assert "labels never seen before: 'moved'" in problems


def test_a_different_task_or_target_is_a_violation(tidy: pd.DataFrame) -> None:
    expectations = infer_expectations(tidy, TARGET, "classification")
    problems = check_expectations(tidy.rename(columns={TARGET: "y"}), expectations, "y", "regression")
    assert any("task" in problem for problem in problems)
    assert any("target" in problem for problem in problems)
