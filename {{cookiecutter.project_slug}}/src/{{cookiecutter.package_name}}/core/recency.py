"""How much each row counts when retraining: the newest the most, halving every `half_life` rows back in time."""

import numpy as np


def recency_weights(rows: int, half_life: float) -> np.ndarray:
    """Training weights for `rows` rows ordered oldest first, averaging 1 (so a model's regularisation means what it
    meant without weights); half_life 0 weighs every row the same.

    The world can change how the outcome depends on the inputs (concept drift), and a few hundred rows of yesterday
    would outvote today's feedback; exponential forgetting lets the newest rows decide while older ones still count.
    """
    if rows <= 0:
        return np.ones(0)
    if half_life <= 0:
        return np.ones(rows)
    age = np.arange(rows - 1, -1, -1, dtype="float64")  # 0 for the newest row
    weights = 0.5 ** (age / half_life)
    return np.asarray(weights * rows / weights.sum())
