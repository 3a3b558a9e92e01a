"""Column typing: which columns are numeric or categorical, and how each kind is represented in a DataFrame."""

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

Kind = Literal["numeric", "categorical"]


def column_kind(series: pd.Series) -> Kind:
    """Numbers are numeric; text, booleans, categories and dates are categorical."""
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return "categorical"
    return "numeric"


def as_string(value: Any) -> str:
    """str(value), except that whole floats lose their ".0": a code sent as 75001.0 is the category "75001"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_text(series: pd.Series) -> pd.Series:
    """Values as Python strings in an object column, missing values (None, NaN, NA) as NaN."""
    # Object dtype with NaN is what clients send after JSON decoding, so training sees the same thing as serving.
    text = series.astype(object)
    return text.map(as_string, na_action="ignore").astype(object).where(text.notna(), np.nan)


def coerce_features(frame: pd.DataFrame, kinds: Mapping[str, Kind]) -> pd.DataFrame:
    """Keep the feature columns in order, numeric ones as float64 and categorical ones as text with NaN."""
    missing = [name for name in kinds if name not in frame.columns]
    if missing:
        shown = ", ".join(map(repr, missing[:5])) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise ValueError(f"missing feature columns: {shown}")
    columns = {
        name: pd.to_numeric(frame[name], errors="coerce").astype("float64")
        if kind == "numeric"
        else as_text(frame[name])
        for name, kind in kinds.items()
    }
    return pd.DataFrame(columns, index=frame.index)


def not_numbers(series: pd.Series) -> pd.Series:
    """Per value, whether it is present but not a number: text in a numeric column ("12,5", "n/a", "abc")."""
    return series.notna() & pd.to_numeric(series, errors="coerce").isna()


def parse_numbers(text: pd.DataFrame) -> pd.DataFrame:
    """Turn the columns of a CSV read as text into numbers where every value is one.

    Unlike pandas' own inference, a column with leading zeros ("01000", "007") stays text: it is a code, not a
    quantity, and reading it as a number would lose the zeros for good.
    """
    parsed = text.copy()
    for name in parsed.columns:
        values = parsed[name].dropna().astype(str).str.strip()
        numbers = pd.to_numeric(values, errors="coerce")
        if len(values) and numbers.notna().all() and not values.str.match(r"[+-]?0\d").any():
            parsed[name] = pd.to_numeric(parsed[name])
    return parsed


def to_numbers(values: Any) -> np.ndarray:
    """A 2-D float64 array of a numeric column group; None and text that is not a number become NaN."""
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        # Already numbers: there is nothing to coerce, and a DataFrame round trip would only copy them.
        return values
    frame = values if isinstance(values, pd.DataFrame) else pd.DataFrame(values)
    if not all(pd.api.types.is_float_dtype(dtype) for dtype in frame.dtypes):
        frame = frame.apply(pd.to_numeric, errors="coerce")
    return frame.to_numpy(dtype="float64")


def to_text(values: Any) -> np.ndarray:
    """A 2-D object array of a categorical column group: every value a string, every missing value NaN."""
    array = np.asarray(values, dtype=object)
    missing = pd.isna(array)
    text = np.frompyfunc(as_string, 1, 1)(array).astype(object)
    text[missing] = np.nan
    return text
