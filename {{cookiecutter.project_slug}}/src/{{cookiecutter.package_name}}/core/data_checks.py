"""What a bring-your-own table must be to train on: how its text is read, and which rows and columns can be used.

Each rule either adapts the data and says so (a note: the encoding, the separator, a column dropped) or refuses it
with a UserError naming the problem and the fix. Ingest applies them in this order: `decode` and `separator` to the
file's bytes, `usable_features` to the table, then `enough_rows` once the rows without a target are gone.
"""

import csv
import re

import numpy as np
import pandas as pd

from ..params import Task
from ..user_errors import UserError

# Fewer labelled rows than this cannot be split into a train set and a test set that says anything about the model.
MIN_ROWS = 20
# Each of at least two classes needs this many rows, so that the stratified test split holds both.
MIN_CLASS_ROWS = 2
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# A number written with a decimal comma, as a spreadsheet in a French or German locale saves it with `;` separators.
DECIMAL_COMMA = re.compile(r"[+-]?(\d*,\d+|\d+|inf|infinity)", re.IGNORECASE)


def decode(data: bytes, name: str) -> tuple[str, list[str]]:
    """The file's text and what was assumed to read it: UTF-8 (with or without a BOM), UTF-16, else Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), ["read UTF-8 with a byte-order mark (BOM)"]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), ["read UTF-16 (it has a UTF-16 byte-order mark)"]
    if b"\x00" in data[:4096]:
        raise UserError(f"{name} holds NUL bytes, so it is not a text CSV: export it again as CSV, UTF-8")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), [
            f"{name} is not UTF-8: read it as Windows-1252 (latin-1); save it as UTF-8 to be sure"
        ]
    except UnicodeDecodeError:
        return data.decode("latin-1"), [f"{name} is not UTF-8: read it as latin-1; save it as UTF-8 to be sure"]


def separator(text: str) -> tuple[str, list[str]]:
    """The column separator of a CSV's text, guessed from its first lines: comma, semicolon, tab or pipe."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        found = csv.Sniffer().sniff(sample, delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        return ",", []  # one column, or nothing to compare: a comma is as good a guess as any
    return found, ([] if found == "," else [f"detected the {SEPARATORS[found]} ({found!r}) as the column separator"])


def decimal_commas(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Text columns whose every value is a number with a decimal comma ("1,5") become numbers."""
    fixed, converted = frame.copy(), []
    for name in frame.columns:
        values = frame[name].dropna().astype(str).str.strip()
        if len(values) and values.str.contains(",").any() and values.str.fullmatch(DECIMAL_COMMA).all():
            fixed[name] = pd.to_numeric(frame[name].str.replace(",", ".", regex=False))
            converted.append(repr(str(name)))
    return fixed, ([f"read decimal commas in {', '.join(converted)}"] if converted else [])


def usable_features(frame: pd.DataFrame, target: str, name: str) -> tuple[pd.DataFrame, list[str]]:
    """Drop the columns a model cannot learn from and read infinities as missing; refuse a table with none left."""
    if frame.empty:
        columns = "no columns" if not len(frame.columns) else "a header but no rows"
        raise UserError(f"{name} has {columns}: put the data rows under the header line")
    kept, notes, reasons = frame.copy(), [], []
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_float_dtype(series) and np.isinf(series).any():
            kept[column] = series.replace([np.inf, -np.inf], np.nan)
            notes.append(f"column {column!r}: read {int(np.isinf(series).sum())} infinite values as missing")
        if column == target:
            continue
        present = kept[column].dropna()
        why = None
        if present.empty:
            why = "every value is missing"
        elif present.nunique() == 1:
            why = f"it holds one value ({present.iloc[0]!r}) in every row"
        elif not pd.api.types.is_numeric_dtype(present) and present.nunique() == len(frame) >= MIN_ROWS:
            why = "every value is different text (an identifier or free text), which a model cannot generalise from"
        if why:
            kept = kept.drop(columns=column)
            notes.append(f"dropped column {column!r}: {why}")
            reasons.append(f"{column!r} ({why})")
        elif (
            not pd.api.types.is_numeric_dtype(present)
            and (numbers := pd.to_numeric(present, errors="coerce")).notna().mean() >= 0.5
        ):
            text = present[numbers.isna()].astype(str).unique()[:3]
            notes.append(
                f"column {column!r} mixes numbers and text (such as {', '.join(map(repr, text))}): it is read as "
                "categories; clean those values if it is a quantity"
            )
    if target in kept.columns and len(kept.columns) < 2:
        listed = "; ".join(reasons) if reasons else "the target is the only column"
        raise UserError(f"no column of {name} can be a feature: {listed}; add columns that vary from row to row")
    return kept, notes


def enough_rows(labelled: pd.DataFrame, target: str, task: Task, name: str) -> None:
    """Refuse too few labelled rows to split, or (classification) fewer than two classes with rows in both splits."""
    if len(labelled) < MIN_ROWS:
        raise UserError(
            f"{name} has {len(labelled)} labelled row(s); training needs at least {MIN_ROWS}, so that the test split "
            "can judge the model: add rows"
        )
    if task == "classification":
        counts = labelled[target].value_counts()
        if (counts >= MIN_CLASS_ROWS).sum() < 2:
            shown = ", ".join(f"{label!r}: {count}" for label, count in counts.head(5).items())
            raise UserError(
                f"target {target!r} in {name} needs at least two classes with {MIN_CLASS_ROWS} rows each to learn "
                f"and test on, and has {shown}: add rows of another class, or set task: regression for a number"
            )
