"""The promotion gate's rule: better on today's feedback, not much worse on the fixed test split, or today's rule."""

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from .metrics import HIGHER_IS_BETTER, is_better


@dataclass(frozen=True)
class Scores:
    """One model's promotion metric on the fixed test split and on the recent feedback slice (None: not scored)."""

    test: float
    recent: float | None


@dataclass(frozen=True)
class Verdict:
    promote: bool
    rule: str  # "recent": judged on both sets; "test": judged on the test split alone (the fallback)
    reason: str
    # It wins only because the test-split guard was waived: a person must approve it (promote --approve).
    waived: bool = False


# Run tags: the gate's decision (jobs.promote writes it before any alias moves), and one that every version `retrain`
# trained carries from the moment its run starts, before it is registered.
GATE_DECISION = "gate.decision"
TRAINED_BY_RETRAIN = "retrain.feedback_rows_recent"


def awaits_retrain_gate(run_tags: Mapping[str, str]) -> bool:
    """Whether a version was registered by a `retrain` that stopped before its gate judged it (the registry went
    away in between). Only retrain's gate has the recent feedback to judge it on, so it is never served as it is."""
    return TRAINED_BY_RETRAIN in run_tags and GATE_DECISION not in run_tags


def recent_slice(feedback: pd.DataFrame, share: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows to train on, rows kept aside to judge on), both oldest first.

    `feedback` is sorted oldest first. The slice holds round(share * rows) rows drawn (seeded) from the newest twice
    that many: it describes today's world, and training still sees the other half of today, so a model can learn it.
    """
    size = round(share * len(feedback))
    if size == 0:
        return feedback, feedback.iloc[:0]
    newest = feedback.iloc[-min(len(feedback), 2 * size) :]
    held = newest.sample(n=size, random_state=seed).index
    return feedback.drop(index=held), feedback.loc[sorted(held)]


def worse_by(metric: str, candidate: float, champion: float) -> float:
    """How much worse the candidate is than the champion, relative to the champion (0 or less: not worse)."""
    loss = champion - candidate if HIGHER_IS_BETTER[metric] else candidate - champion
    return loss / (abs(champion) or 1.0)


def judge(
    metric: str,
    candidate: Scores,
    champion: Scores,
    recent_rows: int,
    margin: float,
    guard: float,
    min_recent: int,
    recent_sources: int,
    min_sources: int,
) -> Verdict:
    """Promote when the candidate beats the champion by more than `margin` on the recent slice and is not worse on
    the test split by more than `guard` (relative), unless the champion itself is worse by more than `guard` on the
    recent slice than on the test split (the world changed: the guard is waived and says so); with fewer than
    `min_recent` recent rows, or a recent slice the metric cannot score, fall back to beating the champion by `margin`
    on the test split alone, and say so.

    Only a recent slice with feedback from at least `min_sources` sources may waive the guard: a metric cannot tell a
    changed world from one client sending wrong labels, but a changed world is seen by more than one client. A
    verdict that wins only by the waiver says so (`waived`): the promotion job then waits for a person to approve."""
    direction = "higher" if HIGHER_IS_BETTER[metric] else "lower"
    if recent_rows < min_recent or candidate.recent is None or champion.recent is None:
        if recent_rows == 0:
            why = "no recent feedback was kept aside"
        elif recent_rows < min_recent:
            why = f"only {recent_rows} recent feedback rows (promote.min_recent is {min_recent})"
        else:
            why = f"{metric} cannot be computed on the {recent_rows} recent feedback rows"
        win = is_better(metric, candidate.test, champion.test, margin)
        verdict = "beats" if win else "does not beat"
        reason = (
            f"{why}, so the test split alone decides: {metric} {verdict} the champion's by more than {margin} "
            f"({direction} is better)"
        )
        return Verdict(win, "test", reason)
    better_today = is_better(metric, candidate.recent, champion.recent, margin)
    today = "beats" if better_today else "does not beat"
    reason = (
        f"on the {recent_rows} newest feedback rows {metric} {today} the champion's by more than {margin} "
        f"({direction} is better)"
    )
    # The guard keeps a candidate from forgetting a world that still holds. When the champion itself lost more than
    # the guard between the test split and today's rows, that world is gone (concept drift), and a candidate that
    # learned today's truth must be worse on yesterday's split: holding that against it would keep the failing model.
    champion_drop = worse_by(metric, champion.recent, champion.test)
    loss = worse_by(metric, candidate.test, champion.test)
    within_guard = loss <= guard
    test = f"within the guard of {guard:.0%}" if within_guard else f"{loss:.1%} worse, past the guard of {guard:.0%}"
    if champion_drop > guard:
        collapsed = (
            f"; the champion itself is {champion_drop:.1%} worse there than on the test split, past the guard of "
            f"{guard:.0%}"
        )
        if recent_sources < min_sources:
            alone = (
                f", but the recent slice holds feedback from only {recent_sources} source(s) (promote.min_sources is "
                f"{min_sources}), so it alone cannot waive the test-split guard; on the test split it is {test}"
            )
            return Verdict(better_today and within_guard, "recent", reason + collapsed + alone)
        stale = (
            f": the test split no longer describes today, so it does not hold the candidate back (on it the candidate "
            f"is {test})"
        )
        return Verdict(better_today, "recent", reason + collapsed + stale, waived=better_today and not within_guard)
    return Verdict(better_today and within_guard, "recent", f"{reason}; on the test split it is {test}")
