"""The seeded split: reproducible, disjoint, stratified for classification."""

import pandas as pd

from {{ cookiecutter.package_name }}.core.splitting import held_out, split_frame


def labelled(rows: int) -> pd.DataFrame:
    return pd.DataFrame({"x": range(rows), "y": ["a" if row % 4 else "b" for row in range(rows)]})


def test_the_same_seed_gives_the_same_split() -> None:
    first = split_frame(labelled(40), "y", "classification", 0.25, seed=3)
    second = split_frame(labelled(40), "y", "classification", 0.25, seed=3)
    assert first[0].equals(second[0])
    assert first[1].equals(second[1])


def test_another_seed_gives_another_split() -> None:
    _, test_a = split_frame(labelled(40), "y", "classification", 0.25, seed=3)
    _, test_b = split_frame(labelled(40), "y", "classification", 0.25, seed=4)
    assert set(test_a["x"]) != set(test_b["x"])


def test_split_rows_are_disjoint_and_complete() -> None:
    train, test = split_frame(labelled(41), "y", "regression", 0.2, seed=0)
    assert set(train["x"]).isdisjoint(test["x"])
    assert len(train) + len(test) == 41
    assert len(test) == 8


def test_classification_split_keeps_the_label_shares() -> None:
    train, test = split_frame(labelled(80), "y", "classification", 0.25, seed=0)
    assert test["y"].value_counts().to_dict() == {"a": 15, "b": 5}
    assert train["y"].value_counts().to_dict() == {"a": 45, "b": 15}


def test_a_class_with_one_row_stays_in_train() -> None:
    frame = pd.concat([labelled(20), pd.DataFrame({"x": [99], "y": ["rare"]})], ignore_index=True)
    train, test = split_frame(frame, "y", "classification", 0.25, seed=0)
    assert "rare" in set(train["y"])
    assert "rare" not in set(test["y"])


def test_held_out_is_never_zero_nor_everything() -> None:
    assert held_out(1, 0.5) == 0
    assert held_out(2, 0.01) == 1
    assert held_out(3, 0.99) == 2
