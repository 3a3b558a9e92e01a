"""Split data/raw/data.csv into seeded train and test CSVs under data/processed/."""

import pandas as pd

from ..core.splitting import split_frame
from ..io.datasets import read_frame, write_frame
from ..params import Params, load_params
from ..settings import find_project_root
from ..user_errors import run_job
from .context import RAW, TEST, TRAIN, Paths, load_expectations, say


def split(params: Params, paths: Paths) -> tuple[pd.DataFrame, pd.DataFrame]:
    expectations = load_expectations(paths)
    frame = read_frame(paths / RAW, expectations)
    target = params.data.target
    train, test = split_frame(frame, target, params.task, params.split.test_size, params.split.seed)
    write_frame(train, paths / TRAIN)
    write_frame(test, paths / TEST)
    say("split", f"{len(train)} train and {len(test)} test rows, seed {params.split.seed}")
    if params.task == "classification":
        shares = test[target].value_counts(normalize=True).sort_index()
        say(
            "split",
            "test labels (stratified): " + ", ".join(f"{label}: {share * 100:.0f}%" for label, share in shares.items()),
        )
        only_train = sorted(set(train[target]) - set(test[target]), key=str)
        if only_train:
            say("split", f"classes with a single row stay in train: {', '.join(map(str, only_train))}")
    return train, test


def main() -> None:
    split(load_params(), Paths(find_project_root()))


if __name__ == "__main__":
    run_job(main, "split")
