"""Column typing: what counts as numeric or categorical, and how values are coerced for the model."""

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.core.features import (
    as_text,
    coerce_features,
    column_kind,
    parse_numbers,
    to_numbers,
    to_text,
)


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([1, 2, 3], "numeric"),
        ([1.5, None, 2.0], "numeric"),
        (["a", "b", None], "categorical"),
        ([True, False, True], "categorical"),
        (pd.Categorical(["x", "y", "x"]), "categorical"),
    ],
)
def test_column_kind_follows_the_dtype(values: object, kind: str) -> None:
    assert column_kind(pd.Series(values)) == kind


def test_as_text_makes_strings_and_keeps_every_missing_value_as_nan() -> None:
    text = as_text(pd.Series(["a", None, np.nan, 7, True, 75001.0, 2.5], dtype=object))
    assert text.dtype == object
    assert text.tolist()[0] == "a"
    assert text.tolist()[3:] == ["7", "True", "75001", "2.5"]
    assert text.isna().tolist() == [False, True, True, False, False, False, False]


def test_coerce_features_orders_columns_and_types_them_for_the_model() -> None:
    raw = pd.DataFrame({"extra": [0, 0], "city": ["Lyon", None], "age (y)": ["41", None]})
    coerced = coerce_features(raw, {"age (y)": "numeric", "city": "categorical"})
    assert list(coerced.columns) == ["age (y)", "city"]
    assert coerced["age (y)"].dtype == "float64"
    assert coerced["age (y)"].tolist()[0] == 41.0
    assert coerced["city"].dtype == object


def test_coerce_features_names_the_missing_columns() -> None:
    with pytest.raises(ValueError, match="'city'"):
        coerce_features(pd.DataFrame({"age": [1.0]}), {"age": "numeric", "city": "categorical"})


def test_parse_numbers_keeps_codes_with_leading_zeros_as_text() -> None:
    text = pd.DataFrame(
        {
            "zip": ["01000", "75001", None],
            "count": ["3", "-2", None],
            "ratio": ["0.5", "1e3", "0"],
            "flag": ["True", "False", None],
        },
        dtype=object,
    )
    parsed = parse_numbers(text)
    assert parsed["zip"].tolist()[:2] == ["01000", "75001"]
    assert parsed["count"].dtype == "float64"
    assert parsed["ratio"].tolist() == [0.5, 1000.0, 0.0]
    assert column_kind(parsed["flag"]) == "categorical"


def test_to_numbers_accepts_frames_and_arrays_alike() -> None:
    rows = [[1, "2.5"], [None, "x"]]
    from_frame = to_numbers(pd.DataFrame(rows, dtype=object))
    from_array = to_numbers(np.array(rows, dtype=object))
    assert from_frame.dtype == from_array.dtype == np.float64
    np.testing.assert_array_equal(from_frame, from_array)
    np.testing.assert_array_equal(from_frame, [[1.0, 2.5], [np.nan, np.nan]])


def test_to_text_makes_strings_and_nan_in_an_object_array() -> None:
    text = to_text(pd.DataFrame({"a": ["x", None], "b": [75001, np.nan]}))
    assert text.dtype == object
    assert text[0].tolist() == ["x", "75001"]
    assert pd.isna(text[1]).all()
