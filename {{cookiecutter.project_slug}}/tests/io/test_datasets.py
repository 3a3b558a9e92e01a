"""Loading the data source and reading CSVs back with the column types the expectations describe."""

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.core.schema import infer_expectations, tidy_features, tidy_target
from {{ cookiecutter.package_name }}.io.datasets import (
    load_source,
    read_expectations,
    read_frame,
    write_expectations,
    write_frame,
)
from {{ cookiecutter.package_name }}.user_errors import UserError

from conftest import CODE, byod_frame

TARGET = "Target?"


def test_a_csv_round_trip_keeps_types_and_leading_zeros(tmp_path: Path) -> None:
    frame, _ = tidy_target(byod_frame("classification"), TARGET, "classification")
    frame = tidy_features(frame, TARGET)
    expectations = infer_expectations(frame, TARGET, "classification")
    write_frame(frame, tmp_path / "data.csv")
    back = read_frame(tmp_path / "data.csv", expectations)
    assert back[CODE].tolist() == frame[CODE].tolist()
    assert "01000" in set(back[CODE])
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_expectations_round_trip_through_json(tmp_path: Path) -> None:
    frame, _ = tidy_target(byod_frame("regression"), TARGET, "regression")
    expectations = infer_expectations(tidy_features(frame, TARGET), TARGET, "regression")
    write_expectations(expectations, tmp_path / "expectations.json")
    assert read_expectations(tmp_path / "expectations.json") == expectations
    assert read_expectations(tmp_path / "absent.json") is None


def test_a_bundled_sklearn_set_loads_with_its_target(tmp_path: Path) -> None:
    frame, notes = load_source("sklearn:iris", tmp_path)
    assert notes == []
    assert "target" in frame.columns
    assert len(frame) == 150


def test_an_unknown_sklearn_set_suggests_bundled_ones(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="breast_cancer"):
        load_source("sklearn:nope", tmp_path)


def test_a_missing_csv_says_where_to_put_it(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="data/external"):
        load_source("data/external/missing.csv", tmp_path)
