"""Recency weights: the newest row counts the most, a row half_life rows older half as much, and they average 1."""

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.core.recency import recency_weights


def test_a_row_half_life_rows_older_weighs_half_as_much() -> None:
    weights = recency_weights(301, half_life=100)
    assert weights[-1] == pytest.approx(2 * weights[-101])
    assert weights[-1] == pytest.approx(4 * weights[-201])
    assert np.all(np.diff(weights) > 0)  # oldest first: every row weighs more than the one before it


def test_weights_average_one_so_regularisation_keeps_its_meaning() -> None:
    assert recency_weights(500, half_life=150).mean() == pytest.approx(1.0)


def test_half_life_zero_weighs_every_row_the_same() -> None:
    np.testing.assert_array_equal(recency_weights(4, half_life=0), np.ones(4))


def test_no_rows_no_weights() -> None:
    assert recency_weights(0, half_life=100).size == 0
