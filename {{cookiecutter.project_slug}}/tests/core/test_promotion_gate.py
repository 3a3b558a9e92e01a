"""The promotion gate's rule: today's feedback decides unless there is too little of it, and the test split guards."""

from typing import NamedTuple

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.core.promotion_gate import Scores, Verdict, judge, recent_slice, worse_by

# The gate's settings every case below shares (params.yaml's promote section): a 10% guard, at least 30 recent rows
# and 2 sources for the recent slice to decide alone.
GUARD, MIN_RECENT, MIN_SOURCES = 0.1, 30, 2


def decide(
    candidate: Scores, champion: Scores, recent_rows: int, margin: float, metric: str = "roc_auc", sources: int = 2
) -> Verdict:
    return judge(
        metric,
        candidate,
        champion,
        recent_rows,
        margin=margin,
        guard=GUARD,
        min_recent=MIN_RECENT,
        recent_sources=sources,
        min_sources=MIN_SOURCES,
    )


class Case(NamedTuple):
    """Scores (test split, recent slice) of the candidate and the champion, and the verdict the gate must give."""

    candidate: Scores
    champion: Scores
    recent_rows: int
    margin: float
    promote: bool
    waived: bool = False
    rule: str = "recent"
    says: tuple[str, ...] = ()
    never_says: tuple[str, ...] = ()
    metric: str = "roc_auc"
    sources: int = 2


CASES = {
    "better today and within the guard: promoted": Case(
        Scores(0.95, 0.93),
        Scores(0.98, 0.89),
        50,
        0.01,
        promote=True,
        says=("on the 50 newest feedback rows roc_auc beats", "within the guard of 10%"),
    ),
    "better today but past the guard on the test split: refused": Case(
        Scores(0.80, 0.99), Scores(0.98, 0.95), 50, 0.0, promote=False, says=("18.4% worse, past the guard of 10%",)
    ),
    "not better by more than the margin today: refused": Case(
        Scores(0.99, 0.74),
        Scores(0.98, 0.70),
        50,
        0.05,
        promote=False,
        says=("does not beat the champion's by more than 0.05",),
    ),
    "lower is better, judged in its direction: promoted": Case(
        Scores(52.0, 40.0), Scores(50.0, 54.0), 40, 1.0, promote=True, says=("lower is better",), metric="rmse"
    ),
    "lower is better, past the guard: refused": Case(
        Scores(60.0, 40.0), Scores(50.0, 54.0), 40, 1.0, promote=False, metric="rmse"
    ),
    # Concept drift: the champion lost 70% between the test split and today's rows, and the candidate that learned
    # today's truth is necessarily bad on yesterday's split. The promotion job makes a waived win wait for a person
    # (jobs.approve).
    "the champion fails today: the stale split is waived, and the win says so": Case(
        Scores(0.20, 0.85),
        Scores(0.98, 0.30),
        60,
        0.01,
        promote=True,
        waived=True,
        says=(
            "the champion itself is 69.4% worse there than on the test split, past the guard of 10%",
            "the test split no longer describes today",
        ),
    ),
    "the waiver never lets a candidate win that is not better today": Case(
        Scores(0.20, 0.30), Scores(0.98, 0.30), 60, 0.01, promote=False
    ),
    "a win within the guard is not a waived one: automatic": Case(
        Scores(0.95, 0.85), Scores(0.98, 0.30), 60, 0.01, promote=True, waived=False
    ),
    # One client's wrong labels make the champion collapse as concept drift would: alone, they change nothing.
    "a recent slice from too few sources cannot waive the guard": Case(
        Scores(0.002, 0.99),
        Scores(0.988, 0.002),
        80,
        0.01,
        promote=False,
        says=(
            "feedback from only 1 source(s) (promote.min_sources is 2)",
            "it alone cannot waive the test-split guard",
        ),
        never_says=("no longer describes today",),
        sources=1,
    ),
    # Covariate drift leaves the truth alone: the champion scores as well today, so the test split still counts.
    "the champion holds today: the guard applies": Case(
        Scores(0.85, 0.999),
        Scores(0.98, 0.97),
        60,
        0.01,
        promote=False,
        says=("past the guard of 10%",),
        never_says=("no longer describes today",),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_gate_decides_on_recent_feedback_within_the_guard(case: Case) -> None:
    verdict = decide(case.candidate, case.champion, case.recent_rows, case.margin, case.metric, case.sources)
    assert (verdict.promote, verdict.waived, verdict.rule) == (case.promote, case.waived, case.rule), verdict.reason
    for text in case.says:
        assert text in verdict.reason
    for text in case.never_says:
        assert text not in verdict.reason


def test_worse_by_is_relative_and_follows_the_metrics_direction() -> None:
    assert worse_by("rmse", 60.0, 50.0) == pytest.approx(0.2)
    assert worse_by("roc_auc", 0.80, 0.98) == pytest.approx(0.18 / 0.98)


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
    verdict = decide(Scores(0.97, recent), Scores(0.98, 0.5), recent_rows, margin=0.0)
    assert not verdict.promote
    assert verdict.rule == "test"
    assert verdict.reason.startswith(why + ", so the test split alone decides")
    assert decide(Scores(0.99, recent), Scores(0.98, 0.5), recent_rows, margin=0.0).promote


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
