"""Synthetic traffic: drift that grows with its amount, label noise, and a simulator that stays on loopback."""

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.core.simulation import drift_features, noisy_labels, records
from {{ cookiecutter.package_name }}.jobs.simulate import is_loopback, main

from .conftest import make_frame

KINDS = {"mean radius": "numeric", "area": "numeric", "colour": "categorical"}


def test_no_drift_leaves_the_data_as_it_is() -> None:
    frame = make_frame(200, seed=1)
    pd.testing.assert_frame_equal(drift_features(frame, KINDS, 0.0, np.random.default_rng(0)), frame)  # type: ignore[arg-type]


def test_drift_moves_numbers_and_categories_more_as_it_grows() -> None:
    frame = make_frame(2_000, seed=1)
    shifts = []
    for amount in (0.5, 2.0):
        drifted = drift_features(frame, KINDS, amount, np.random.default_rng(0))  # type: ignore[arg-type]
        shifts.append((drifted["mean radius"].mean() - frame["mean radius"].mean()) / frame["mean radius"].std())
        assert (drifted["colour"] == "blue").mean() > (frame["colour"] == "blue").mean()
    assert shifts[0] == pytest.approx(0.5, abs=0.05)
    assert shifts[1] == pytest.approx(2.0, abs=0.05)


def test_label_noise_flips_about_the_given_share() -> None:
    labels = pd.Series([0, 1] * 500)
    noisy = noisy_labels(labels, "classification", 0.2, np.random.default_rng(0), [0, 1])
    assert 0.15 < (noisy != labels).mean() < 0.25
    assert set(noisy) == {0, 1}
    targets = pd.Series(np.linspace(0.0, 100.0, 1_000))
    perturbed = noisy_labels(targets, "regression", 0.5, np.random.default_rng(0))
    assert 0.4 < (perturbed != targets).mean() < 0.6


def test_records_are_plain_json_values_with_nulls() -> None:
    frame = pd.DataFrame({"a b": [1.5, np.nan], "c": ["x", None]})
    assert records(frame) == [{"a b": 1.5, "c": "x"}, {"a b": None, "c": None}]


def test_simulator_only_targets_loopback_unless_allowed() -> None:
    assert is_loopback("http://127.0.0.1:8000")
    assert is_loopback("http://localhost:8000")
    assert is_loopback("http://[::1]:8000")
    assert not is_loopback("https://api.example.com")
    with pytest.raises(SystemExit, match="--allow-remote"):
        main("https://api.example.com", n=1)
