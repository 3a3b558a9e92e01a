"""The promotion gate's rule: today's feedback decides unless there is too little of it, and the test split guards."""

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.core.promotion_gate import Scores, judge, recent_slice, worse_by


def test_better_on_recent_feedback_and_within_the_guard_promotes() -> None:
    verdict = judge(
        "roc_auc",
        Scores(0.95, 0.93),
        Scores(0.98, 0.89),
        recent_rows=50,
        margin=0.01,
        guard=0.1,
        min_recent=30,
        recent_sources=2,
        min_sources=2,
    )
    assert verdict.promote
    assert verdict.rule == "recent"
    assert "on the 50 newest feedback rows roc_auc beats" in verdict.reason
    assert "within the guard of 10%" in verdict.reason


def test_better_on_recent_feedback_but_past_the_guard_on_the_test_split_is_refused() -> None:
    verdict = judge(
        "roc_auc",
        Scores(0.80, 0.99),
        Scores(0.98, 0.95),
        recent_rows=50,
        margin=0.0,
        guard=0.1,
        min_recent=30,
        recent_sources=2,
        min_sources=2,
    )
    assert not verdict.promote
    assert verdict.rule == "recent"
    assert "18.4% worse, past the guard of 10%" in verdict.reason


def test_not_better_by_more_than_the_margin_on_recent_feedback_is_refused() -> None:
    verdict = judge(
        "roc_auc",
        Scores(0.99, 0.74),
        Scores(0.98, 0.70),
        recent_rows=50,
        margin=0.05,
        guard=0.1,
        min_recent=30,
        recent_sources=2,
        min_sources=2,
    )
    assert not verdict.promote
    assert "does not beat the champion's by more than 0.05" in verdict.reason


def test_lower_is_better_metrics_are_judged_in_their_direction() -> None:
    better = judge(
        "rmse",
        Scores(52.0, 40.0),
        Scores(50.0, 54.0),
        recent_rows=40,
        margin=1.0,
        guard=0.1,
        min_recent=30,
        recent_sources=2,
        min_sources=2,
    )
    assert better.promote
    assert "lower is better" in better.reason
    past_guard = judge(
        "rmse",
        Scores(60.0, 40.0),
        Scores(50.0, 54.0),
        recent_rows=40,
        margin=1.0,
        guard=0.1,
        min_recent=30,
        recent_sources=2,
        min_sources=2,
    )
    assert not past_guard.promote
    assert worse_by("rmse", 60.0, 50.0) == pytest.approx(0.2)


def test_when_the_champion_itself_fails_today_the_stale_test_split_does_not_hold_the_candidate_back() -> None:
    # Concept drift: the champion lost 70% between the test split and today's rows, and the candidate that learned
    # today's truth is necessarily bad on yesterday's split.
    verdict = judge(
        "roc_auc",
        Scores(0.20, 0.85),
        Scores(0.98, 0.30),
        recent_rows=60,
        margin=0.01,
        guard=0.1,
        min_recent=30,
        recent_sources=2,
        min_sources=2,
    )
    assert verdict.promote
    assert verdict.rule == "recent"
    assert "the champion itself is 69.4% worse there than on the test split, past the guard of 10%" in verdict.reason
    assert "the test split no longer describes today" in verdict.reason
    # The waiver never lets a candidate win that is not better today.
    not_better = judge(
        "roc_auc",
        Scores(0.20, 0.30),
        Scores(0.98, 0.30),
        recent_rows=60,
        margin=0.01,
        guard=0.1,
        min_recent=30,
        recent_sources=2,
        min_sources=2,
    )
    assert not not_better.promote


def test_a_win_by_the_waiver_alone_says_so_and_one_within_the_guard_does_not() -> None:
    # The promotion job makes a waived win wait for a person (jobs.approve); a win within the guard stays automatic.
    waived = judge(
        "roc_auc",
        Scores(0.20, 0.85),
        Scores(0.98, 0.30),
        recent_rows=60,
        margin=0.01,
        guard=0.1,
        min_recent=30,
        recent_sources=2,
        min_sources=2,
    )
    assert (waived.promote, waived.waived) == (True, True)
    within = judge(
        "roc_auc",
        Scores(0.95, 0.85),
        Scores(0.98, 0.30),
        recent_rows=60,
        margin=0.01,
        guard=0.1,
        min_recent=30,
        recent_sources=2,
        min_sources=2,
    )
    assert (within.promote, within.waived) == (True, False)


def test_a_recent_slice_from_too_few_sources_cannot_waive_the_guard() -> None:
    # One client's wrong labels make the champion collapse as concept drift would: alone, they change nothing.
    verdict = judge(
        "roc_auc",
        Scores(0.002, 0.99),
        Scores(0.988, 0.002),
        recent_rows=80,
        margin=0.01,
        guard=0.1,
        min_recent=30,
        recent_sources=1,
        min_sources=2,
    )
    assert (verdict.promote, verdict.waived) == (False, False)
    assert "feedback from only 1 source(s) (promote.min_sources is 2)" in verdict.reason
    assert "it alone cannot waive the test-split guard" in verdict.reason
    assert "no longer describes today" not in verdict.reason


def test_when_the_champion_holds_today_the_guard_applies() -> None:
    # Covariate drift leaves the truth alone: the champion scores as well today, so the test split still counts.
    holds = judge(
        "roc_auc",
        Scores(0.85, 0.999),
        Scores(0.98, 0.97),
        recent_rows=60,
        margin=0.01,
        guard=0.1,
        min_recent=30,
        recent_sources=2,
        min_sources=2,
    )
    assert not holds.promote
    assert "past the guard of 10%" in holds.reason
    assert "no longer describes today" not in holds.reason


@pytest.mark.parametrize(
    ("recent_rows", "recent", "why"),
    [
        (0, None, "no recent feedback was kept aside"),
        (12, 0.9, "only 12 recent feedback rows (promote.min_recent is 30)"),
        (40, None, "roc_auc cannot be computed on the 40 recent feedback rows"),
    ],
)
def test_too_little_recent_feedback_falls_back_to_the_test_split_and_says_so(
    recent_rows: int, recent: float | None, why: str
) -> None:
    # Much better on the few recent rows, worse on the test split: the fallback must ignore the recent score.
    verdict = judge(
        "roc_auc",
        Scores(0.97, recent),
        Scores(0.98, 0.5),
        recent_rows,
        margin=0.0,
        guard=0.1,
        min_recent=30,
        recent_sources=2,
        min_sources=2,
    )
    assert not verdict.promote
    assert verdict.rule == "test"
    assert verdict.reason.startswith(why + ", so the test split alone decides")
    wins = judge(
        "roc_auc",
        Scores(0.99, recent),
        Scores(0.98, 0.5),
        recent_rows,
        margin=0.0,
        guard=0.1,
        min_recent=30,
        recent_sources=2,
        min_sources=2,
    )
    assert wins.promote


def test_the_recent_slice_is_drawn_from_the_newest_rows_seeded_and_never_trained_on() -> None:
    feedback = pd.DataFrame({"created_at": range(100), "x": range(100)})
    learn_from, recent = recent_slice(feedback, share=0.2, seed=7)
    assert len(recent) == 20
    assert recent["created_at"].min() >= 60  # from the newest 40 rows
    assert recent["created_at"].is_monotonic_increasing
    assert set(learn_from.index).isdisjoint(recent.index)
    assert len(learn_from) + len(recent) == 100
    assert (learn_from["created_at"] >= 60).sum() == 20  # training still sees half of today
    pd.testing.assert_frame_equal(recent_slice(feedback, share=0.2, seed=7)[1], recent)
    assert not recent_slice(feedback, share=0.2, seed=8)[1].equals(recent)


def test_no_recent_share_keeps_nothing_aside() -> None:
    feedback = pd.DataFrame({"created_at": range(10)})
    learn_from, recent = recent_slice(feedback, share=0.0, seed=0)
    assert recent.empty
    assert len(learn_from) == 10
