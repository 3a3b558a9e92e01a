"""The model-input vocabulary: a signature's columns, which of them are numbers, and the frame a batch becomes.

Everything that reads a model's inputs (the service in both modes, batch scoring, the replacement rule, monitoring,
the traffic simulator) takes these names from here, so that "numeric" means one thing across the project.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .features import Kind

# MLflow's signature types (mlflow.types.DataType names) that the pipeline reads as numbers; others are categories.
NUMERIC_TYPES = frozenset({"double", "float", "long", "integer"})
INTEGER_TYPES = frozenset({"long", "integer"})
# A numeric feature's allowed [low, high]: the range seen at ingest, widened (core.schema.allowed_ranges).
Range = tuple[float, float]


@dataclass(frozen=True)
class Feature:
    """An input column of the signature: its original name and MLflow type (double, long, string, boolean...)."""

    name: str
    type: str

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


def kind_of(mlflow_type: str) -> Kind:
    """Numeric or categorical, for one signature type: the two kinds the pipeline's column groups are built on."""
    return "numeric" if mlflow_type in NUMERIC_TYPES else "categorical"


def kinds_of(types: Mapping[str, str]) -> dict[str, Kind]:
    """Column -> numeric or categorical, for column -> MLflow type, in the signature's order."""
    return {name: kind_of(mlflow_type) for name, mlflow_type in types.items()}


def types_of(features: Iterable[Feature]) -> dict[str, str]:
    """Column -> MLflow type, in the signature's order."""
    return {feature.name: feature.type for feature in features}


def records_frame(records: Sequence[Mapping[str, Any]], types: Mapping[str, str]) -> pd.DataFrame:
    """One DataFrame for a batch of records, as the pipeline was fitted on: numbers as float64, a missing value NaN.

    NaN, not None, for a missing text value too: that is what a frame read from CSV holds, and what imputers look for.
    """
    columns: dict[str, Any] = {}
    for name, mlflow_type in types.items():
        if mlflow_type in NUMERIC_TYPES:
            # numpy reads None as NaN in a float64 array.
            columns[name] = np.array([record[name] for record in records], dtype=np.float64)
        else:
            columns[name] = np.array([np.nan if r[name] is None else r[name] for r in records], dtype=object)
    return pd.DataFrame(columns)
