"""Materialise data.source into data/raw/data.csv, and infer the data's expectations the first time."""

from collections import Counter

import pandas as pd

from ..core.data_checks import enough_rows, usable_features
from ..core.features import column_kind
from ..core.schema import infer_expectations, tidy_features, tidy_target
from ..io.datasets import load_source, read_expectations, write_expectations, write_frame
from ..params import Params, load_params
from ..settings import find_project_root
from ..user_errors import run_job
from .context import EXPECTATIONS, RAW, Paths, say


def ingest(params: Params, paths: Paths) -> pd.DataFrame:
    """Load, check the data (core/data_checks.py), drop rows without a target, give columns CSV-stable types, write
    the raw CSV; return the frame."""
    say("ingest", f"loading {params.data.source}")
    frame, notes = load_source(params.data.source, paths.root)
    frame, usable = usable_features(frame, params.data.target, params.data.source)
    frame, dropped = tidy_target(frame, params.data.target, params.task)
    enough_rows(frame, params.data.target, params.task, params.data.source)
    frame = tidy_features(frame, params.data.target)
    for note in notes + usable:
        say("ingest", note)
    if dropped:
        say("ingest", f"dropped {dropped} rows whose target {params.data.target!r} is missing")
    write_frame(frame, paths / RAW)
    kinds = Counter(column_kind(frame[name]) for name in frame.columns if name != params.data.target)
    say(
        "ingest",
        f"wrote {RAW}: {len(frame)} rows, {kinds['numeric']} numeric and {kinds['categorical']} categorical features",
    )
    if read_expectations(paths / EXPECTATIONS) is None:
        write_expectations(infer_expectations(frame, params.data.target, params.task), paths / EXPECTATIONS)
        say(
            "ingest",
            f"inferred {EXPECTATIONS} from this data: commit it, `validate` checks every new ingest against it",
        )
    else:
        say("ingest", f"kept {EXPECTATIONS} (delete it to re-infer from this data)")
    return frame


def main() -> None:
    ingest(load_params(), Paths(find_project_root()))


if __name__ == "__main__":
    run_job(main, "ingest")
