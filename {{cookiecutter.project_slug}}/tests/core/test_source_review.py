"""Suspicious feedback is visible: per source, how often it contradicts the served prediction, and a flag."""

from typing import Any

import pytest

from {{ cookiecutter.package_name }}.core.source_review import review_sources, sources_section


def rows(source: str | None, count: int, wrong: int) -> list[dict[str, Any]]:
    """`count` labelled classification predictions, the first `wrong` of them contradicted by their label."""
    return [{"source": source, "prediction": 1, "actual": 0 if i < wrong else 1} for i in range(count)]


@pytest.mark.parametrize(
    ("feedback", "flagged"),
    [
        (rows("app", 200, 6) + rows("mallory", 400, 390), {"mallory"}),  # the flood
        (rows("app", 200, 6) + rows("web", 200, 8), set()),  # honest sources agree with each other
        (rows("app", 200, 180) + rows("web", 200, 190), set()),  # the world changed for everyone: not one sender
        (rows("app", 200, 6) + rows("odd", 200, 16), set()),  # twice as often, but 5 points: noise, not a flood
        (rows("app", 200, 6) + rows("mallory", 10, 10), set()),  # too few rows to judge (min_rows 20)
        (rows("mallory", 400, 390), set()),  # alone: nothing to compare with
    ],
    ids=["flood", "honest", "changed-world", "small-gap", "few-rows", "alone"],
)
def test_a_source_is_flagged_only_far_above_the_others(feedback: list[dict[str, Any]], flagged: set[str]) -> None:
    reviewed = review_sources(feedback, "classification", None, min_rows=20)
    assert {found.source for found in reviewed if found.flagged} == flagged


def test_counts_shares_and_anonymous() -> None:
    reviewed = review_sources(rows(None, 4, 1) + rows("app", 2, 0), "classification", None, min_rows=1)
    assert [(f.source, f.rows, f.contradicted, f.contradiction_share) for f in reviewed] == [
        ("anonymous", 4, 1, 0.25),
        ("app", 2, 0, 0.0),
    ]


def test_a_regression_label_contradicts_past_three_typical_misses() -> None:
    feedback = [
        {"source": "app", "prediction": 50.0, "actual": 55.0},
        {"source": "app", "prediction": 50.0, "actual": 70.0},
    ]
    [found] = review_sources(feedback, "regression", typical_error=5.0, min_rows=1)
    assert (found.rows, found.contradicted) == (2, 1)


def test_the_page_section_escapes_names_and_marks_the_flag() -> None:
    reviewed = review_sources(rows("app", 200, 6) + rows("<b>x</b>", 400, 390), "classification", None, 20)
    html = sources_section(reviewed)
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert html.count("flagged") == 1
    assert "No feedback" in sources_section([])
