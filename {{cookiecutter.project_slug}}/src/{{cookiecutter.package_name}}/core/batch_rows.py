"""Batch scoring's rules for rows: which ones the model cannot take, and when a batch has too many of them.

A row is rejected, not scored, for text in a numeric feature (`features.not_numbers`, the rule `validate` applies to
the training data) or a number too large to be finite, for a feature column its file lacks, or because the model
cannot score it (`unscorable.py`, the rule `/predict` applies: a value that overflows once scaled). Each rejection
names the file, the row, the column and the reason; a file that shares no column with the model stops the job.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .features import Kind, not_numbers

NOT_A_NUMBER = "not a number"
NOT_FINITE = "too large for a number (infinite)"
MISSING_COLUMN = "column missing from the file"
CANNOT_SCORE = "the model cannot score it"


def cause_of(reason: str) -> str:
    """The cause a rejection is counted under: its reason, or the model's refusal when the reason is a sentence of
    its own (`unscorable.py` names the value at fault, so that no two such reasons are alike)."""
    return reason if reason in (NOT_A_NUMBER, NOT_FINITE, MISSING_COLUMN) else CANNOT_SCORE


def missing_features(file: str, columns: Sequence[str], kinds: Mapping[str, Kind]) -> list[str]:
    """The model's features a file lacks; ValueError with one sentence when it has none of them at all."""
    missing = [name for name in kinds if name not in columns]
    if len(missing) == len(kinds):
        expected = ", ".join(map(repr, list(kinds)[:5])) + (", ..." if len(kinds) > 5 else "")
        found = ", ".join(map(repr, list(columns)[:5])) + (", ..." if len(columns) > 5 else "")
        raise ValueError(
            f"{file} has none of the columns the model takes: it expects {expected} and the file has {found}"
        )
    return missing


def unreadable_numbers(frame: pd.DataFrame, kinds: Mapping[str, Kind]) -> pd.DataFrame:
    """One row per numeric feature value the model cannot take: its position in the frame, column, value, reason.

    Text that is not a number, and numbers too large for a float (1e400 reads as infinity, which /predict's JSON
    refuses too: no estimator takes it).
    """
    found = []
    for name, kind in kinds.items():
        if kind != "numeric" or name not in frame.columns:
            continue
        series = frame[name]
        # A float column is numbers already (the reader converted it): only an infinity can be wrong there.
        text = np.zeros(len(series), dtype=bool) if pd.api.types.is_float_dtype(series) else not_numbers(series)
        numbers = series if pd.api.types.is_float_dtype(series) else pd.to_numeric(series, errors="coerce")
        infinite = np.isinf(numbers.to_numpy(dtype="float64", na_value=np.nan))
        for bad, reason in ((np.asarray(text), NOT_A_NUMBER), (infinite, NOT_FINITE)):
            if bad.any():
                values = series.to_numpy()[bad].astype(str)
                found.append(
                    pd.DataFrame({"position": bad.nonzero()[0], "column": name, "value": values, "reason": reason})
                )
    if not found:
        return pd.DataFrame({"position": pd.Series(dtype="int64"), "column": [], "value": [], "reason": []})
    return pd.concat(found, ignore_index=True)


@dataclass
class RejectTally:
    """Rows in and rows rejected over the whole batch, and how often each (column, reason) was the cause."""

    rows: int = 0
    rejected: int = 0
    causes: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, rows: int, rejected: int, causes: Sequence[tuple[str, str]]) -> None:
        self.rows += rows
        self.rejected += rejected
        self.causes.update(causes)

    @property
    def share(self) -> float:
        return self.rejected / self.rows if self.rows else 0.0

    def commonest(self, top: int = 3) -> str:
        """The commonest causes, for one sentence: "'age': not a number (120 rows); ..."."""
        return "; ".join(
            f"{column!r}: {reason} ({count} rows)" for (column, reason), count in self.causes.most_common(top)
        )

    def too_many(self, max_share: float) -> str | None:
        """The sentence that stops the job when the rejected share passes `max_share`, else None."""
        if self.share <= max_share:
            return None
        return (
            f"{self.rejected} of {self.rows} rows ({self.share:.1%}) cannot be scored, more than "
            f"score.max_rejected_share ({max_share:.1%}) allows, so nothing was written; the commonest reasons: "
            f"{self.commonest()}"
        )
