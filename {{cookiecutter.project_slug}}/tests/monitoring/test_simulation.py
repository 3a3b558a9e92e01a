"""Synthetic traffic: drift that grows with its amount, concept drift, label noise, and a simulator on loopback."""

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.core.simulation import concept_drift, drift_features, noisy_labels, records
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


def test_concept_drift_reverses_the_effect_of_the_first_numeric_feature_on_a_growing_share() -> None:
    frame = make_frame(2_000, seed=1)
    features = frame.drop(columns="target")
    x = features["mean radius"]
    labels = (x + np.random.default_rng(0).normal(0.0, 1.0, len(x)) > x.median()).astype(int)  # high x means 1
    unchanged = concept_drift(features, labels, "classification", 0.0, KINDS, np.random.default_rng(0))  # type: ignore[arg-type]
    pd.testing.assert_series_equal(unchanged, labels)
    shares = []
    for amount in (0.5, 3.0):
        changed = concept_drift(features, labels, "classification", amount, KINDS, np.random.default_rng(0))  # type: ignore[arg-type]
        shares.append((changed != labels).mean())
        assert set(changed) <= {0, 1}
        # The reversed rule: above the median of x the class that low x used to mean, below it the other.
        moved = changed != labels
        assert (changed[moved] == (x[moved] <= x.median()).astype(int)).all()
    assert shares[0] < shares[1]
    reversed_now = concept_drift(features, labels, "classification", 3.0, KINDS, np.random.default_rng(0))  # type: ignore[arg-type]
    assert np.corrcoef(x, reversed_now)[0, 1] < 0 < np.corrcoef(x, labels)[0, 1]  # the relation itself turned
    assert features.equals(frame.drop(columns="target"))  # the inputs are untouched: only feedback can tell
    repeat = concept_drift(features, labels, "classification", 0.5, KINDS, np.random.default_rng(0))  # type: ignore[arg-type]
    assert repeat.equals(concept_drift(features, labels, "classification", 0.5, KINDS, np.random.default_rng(0)))  # type: ignore[arg-type]


def test_concept_drift_changes_the_slope_of_a_numeric_target() -> None:
    frame = make_frame(2_000, seed=2)
    target = pd.Series(np.linspace(0.0, 100.0, 2_000))
    features = frame.drop(columns="target")
    changed = concept_drift(features, target, "regression", 1.0, KINDS, np.random.default_rng(0))  # type: ignore[arg-type]
    x = features["mean radius"]
    slope_before = np.polyfit(x, target, 1)[0]
    slope_after = np.polyfit(x, changed, 1)[0]
    assert slope_after - slope_before == pytest.approx(target.std() / x.std(), rel=0.01)
    assert changed.mean() == pytest.approx(target.mean(), abs=1e-6)


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
