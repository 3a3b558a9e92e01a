"""No single source decides: each feedback source's share of the rows used is capped, keeping its newest rows."""

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.core.source_caps import SOURCE, SourceUse, cap_per_source, cap_sources


@pytest.mark.parametrize(
    ("counts", "share", "cap"),
    [
        ({"mallory": 400, "app": 200}, 0.5, 200),  # the flood is cut to the honest source's size
        ({"mallory": 400, "a": 100, "b": 100}, 0.5, 200),  # 200 of 400 kept: exactly half
        ({"mallory": 400, "a": 100, "b": 100}, 0.4, 133),  # 133 <= 0.4 * 333
        ({"a": 30, "b": 20}, 0.5, 20),  # the smaller source bounds the larger
        ({"a": 30, "b": 20}, 1.0, 30),  # a share of 1 caps nothing
        ({"anonymous": 250}, 0.5, 250),  # a lone source keeps everything: there is no one to balance it against
        ({"a": 50, "b": 40}, 0.3, 40),  # 0.3 cannot hold with two sources: evened out to the smallest
        ({}, 0.5, 0),
    ],
    ids=["flood-vs-one", "flood-vs-two", "share-0.4", "two-small", "share-1", "alone", "too-few-sources", "none"],
)
def test_the_cap_is_the_largest_that_keeps_every_source_within_its_share(
    counts: dict[str, int], share: float, cap: int
) -> None:
    assert cap_per_source(counts, share) == cap
    kept = {name: min(rows, cap) for name, rows in counts.items()}
    if len(counts) > 1 and share * len(counts) >= 1:
        assert max(kept.values()) <= share * sum(kept.values()) + 1e-9


def test_a_source_over_the_cap_keeps_its_newest_rows_in_order() -> None:
    # Oldest first: mallory's six rows interleave with app's three.
    feedback = pd.DataFrame(
        {
            "created_at": range(9),
            SOURCE: ["mallory", "app", "mallory", "mallory", "app", "mallory", "mallory", "app", "mallory"],
        }
    )
    kept, uses = cap_sources(feedback, 0.5)
    assert kept["created_at"].tolist() == [1, 4, 5, 6, 7, 8]  # app's three, mallory's newest three
    assert uses == [SourceUse("mallory", 6, 3), SourceUse("app", 3, 3)]
    again, _ = cap_sources(feedback, 0.5)
    pd.testing.assert_frame_equal(again, kept)


def test_rows_without_a_source_count_as_anonymous() -> None:
    feedback = pd.DataFrame({"created_at": range(4), SOURCE: [None, "app", None, None]})
    kept, uses = cap_sources(feedback, 0.5)
    assert uses == [SourceUse("anonymous", 3, 1), SourceUse("app", 1, 1)]
    assert kept["created_at"].tolist() == [1, 3]
