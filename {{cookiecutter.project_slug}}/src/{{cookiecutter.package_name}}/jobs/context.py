"""What every job shares: the project's file layout (the DVC stages' deps and outs) and progress lines."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.schema import Expectations
from ..io.datasets import read_expectations
from ..user_errors import UserError

# Relative to the project root, exactly as dvc.yaml and dvc.lock spell them.
RAW = "data/raw/data.csv"
EXPECTATIONS = "data/expectations.json"
TRAIN = "data/processed/train.csv"
TEST = "data/processed/test.csv"
MODEL = "models/model.pkl"
RUN = "models/run.json"
VALIDATION = "reports/validation.json"
METRICS = "reports/metrics.json"
PREDICTIONS = "reports/predictions.csv"
ROC = "reports/roc.csv"


@dataclass(frozen=True)
class Paths:
    """The pipeline's files under one root: the project in main(), a temporary folder in tests."""

    root: Path

    def __truediv__(self, relative: str) -> Path:
        return self.root / relative


def say(step: str, message: str) -> None:
    """One progress line per phase; flushed so that `dvc repro` shows it as it happens."""
    print(f"[{step}] {message}", flush=True)


def write_json(content: dict[str, Any], path: Path) -> None:
    """Indented with sorted keys and a final newline: the same content always gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_json(path: Path) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return content


def load_expectations(paths: Paths) -> Expectations:
    """The expectations every stage after ingest relies on for column types."""
    expectations = read_expectations(paths / EXPECTATIONS)
    if expectations is None:
        raise UserError(f"{EXPECTATIONS} is missing: run the ingest stage first (`dvc repro`)")
    return expectations
