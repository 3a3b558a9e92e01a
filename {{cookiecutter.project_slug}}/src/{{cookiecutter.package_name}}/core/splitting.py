"""A seeded train/test split, stratified by label for classification.

Written with numpy rather than sklearn's train_test_split so that the split stage does not pay seconds of sklearn
import time; the rule is simple enough to state: each class sends round(test_size * rows) of its rows, at least one
and never all of them, to the test split, and a class with a single row stays in train.
"""

import numpy as np
import pandas as pd

from ..params import Task


def held_out(size: int, test_size: float) -> int:
    """How many of `size` rows go to the test split: rounded, but at least one and never all (when size > 1)."""
    if size < 2:
        return 0
    return min(max(round(size * test_size), 1), size - 1)


def split_frame(
    frame: pd.DataFrame, target: str, task: Task, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (train, test); the same frame and seed always give the same rows in the same order."""
    rng = np.random.default_rng(seed)
    if task == "classification":
        groups = [np.flatnonzero((frame[target] == label).to_numpy()) for label in sorted(frame[target].unique())]
    else:
        groups = [np.arange(len(frame))]
    train, test = [], []
    for rows in groups:
        shuffled = rng.permutation(rows)
        cut = held_out(len(rows), test_size)
        test.append(shuffled[:cut])
        train.append(shuffled[cut:])
    # Shuffle again so that the classes are interleaved, as if drawn at random from the whole frame.
    train_rows, test_rows = rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))
    return frame.iloc[train_rows].reset_index(drop=True), frame.iloc[test_rows].reset_index(drop=True)
