"""Load the data source (a CSV or a scikit-learn bundled set) and read/write CSVs without losing column types."""

import importlib
import io
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.data_checks import decimal_commas, decode, separator
from ..core.features import as_text, parse_numbers
from ..core.schema import Expectations
from ..user_errors import UserError, first_line

SKLEARN_PREFIX = "sklearn:"
TARGET_DTYPES = {"integer": "int64", "float": "float64", "string": "str"}


def load_source(source: str, root: Path) -> tuple[pd.DataFrame, list[str]]:
    """`sklearn:<name>` calls sklearn.datasets.load_<name> (bundled, offline); anything else is a CSV/Parquet path.

    A CSV's encoding, separator and decimal commas are detected (core/data_checks.py); the notes say what was assumed.
    """
    if source.startswith(SKLEARN_PREFIX):
        return _load_bundled(source.removeprefix(SKLEARN_PREFIX)), []
    path = root / source
    if not path.is_file():
        raise UserError(
            f"data.source {source!r} is not a file under {root}: put your CSV in data/external/, "
            "`dvc add` it and set data.source to its path, e.g. data/external/mydata.csv"
        )
    if path.suffix == ".parquet":
        return pd.read_parquet(path), []
    data = path.read_bytes()
    if not data.strip():
        raise UserError(f"{source} is empty: export the data again, with a header line and one row per example")
    text, read_as = decode(data, source)
    sep, detected = separator(text)
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, sep=sep)
    except pd.errors.ParserError as error:
        raise UserError(
            f"{source} is not a regular CSV ({first_line(error)}): every row needs as many fields as the header"
        ) from None
    notes = read_as + detected
    if sep == ";":
        table, commas = decimal_commas(table)
        notes += commas
    return parse_numbers(table), notes


def _load_bundled(name: str) -> pd.DataFrame:
    # Imported here: sklearn.datasets is slow to import and CSV users never need it.
    datasets = importlib.import_module("sklearn.datasets")
    loader = getattr(datasets, f"load_{name}", None)
    if loader is None:
        bundled = sorted(attr.removeprefix("load_") for attr in dir(datasets) if attr.startswith("load_"))
        raise UserError(f"data.source: no bundled scikit-learn data set {name!r}; try one of: {', '.join(bundled)}")
    frame: pd.DataFrame = loader(as_frame=True).frame
    return frame


def read_expectations(path: Path) -> Expectations | None:
    """The expectations kept in the repository, or None before the first ingest."""
    return Expectations.model_validate_json(path.read_text(encoding="utf-8")) if path.is_file() else None


def write_expectations(expectations: Expectations, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(expectations.model_dump_json(indent=2, exclude_none=True) + "\n", encoding="utf-8")


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """A CSV with no index and Unix line endings, so the same frame always gives the same bytes (and DVC hash)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")


def read_frame(path: Path, expectations: Expectations, strict: bool = True) -> pd.DataFrame:
    """Read a CSV the way the expectations describe it: categorical columns as text (so "007" stays "007").

    Strict reading also makes numeric features float64 and gives the target its type, failing on text among numbers;
    lenient reading (for validation) lets pandas infer them, so that the problems can be listed instead.
    """
    dtypes: dict[str, Any] = {name: "str" for name, kind in expectations.kinds.items() if kind == "categorical"}
    if strict:
        dtypes |= {name: "float64" for name, kind in expectations.kinds.items() if kind == "numeric"}
        dtypes[expectations.target.name] = TARGET_DTYPES[expectations.target.dtype]
    frame = pd.read_csv(path, dtype=dtypes)
    for name in frame.columns:
        if dtypes.get(name) == "str":
            frame[name] = as_text(frame[name])
    return frame
