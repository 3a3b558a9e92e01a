"""Move @champion to the newest registered version only if the promotion gate (core.promotion_gate) says so.

The gate scores both models on the fixed test split and, when retrain kept some aside, on the newest labelled
feedback; the decision, both pairs of scores and the reason are recorded on the candidate's MLflow run. A candidate
that wins only because the test-split guard was waived is not served: it waits for a person (jobs.approve).
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd
from mlflow import MlflowClient

from ..core.metrics import check_metric, score
from ..core.promotion_gate import GATE_DECISION, Scores, awaits_retrain_gate, judge
from ..core.source_caps import SourceUse
from ..io import tracking
from ..io.datasets import read_frame
from ..params import Params, load_params
from ..service.replacement import registered_refusal
from ..settings import Settings, find_project_root, get_settings
from ..user_errors import UserError, run_job
from .approve import mark_waiting, tell_approvers, waiting_version
from .context import TEST, Paths, load_expectations, say
from .service_notice import tell_running_service


@dataclass(frozen=True)
class Decision:
    candidate: str  # version numbers, as MLflow spells them
    champion: str | None  # the champion before the decision
    alias: str  # the alias the candidate received: champion or challenger
    candidate_score: float  # on the test split
    champion_score: float | None
    reason: str
    rule: str = "test"  # "recent": judged on recent feedback and the test split; "test": on the test split alone
    recent_rows: int = 0
    candidate_recent: float | None = None
    champion_recent: float | None = None
    # It won only because the test-split guard was waived: @challenger until `promote --approve` (jobs.approve).
    awaiting_approval: bool = False

    @property
    def moved_champion(self) -> bool:
        return self.alias == tracking.CHAMPION and self.champion != self.candidate

    def record(self, metric: str) -> tuple[dict[str, str], dict[str, float]]:
        """(tags, metrics) that say what the gate decided and why, for the candidate's run or an audit trail."""
        tags = {
            GATE_DECISION: self.alias,
            "gate.rule": self.rule,
            "gate.reason": self.reason,
            "gate.champion_version": self.champion or "none",
            "gate.recent_rows": str(self.recent_rows),
            "gate.awaiting_approval": str(self.awaiting_approval).lower(),
        }
        scores = {
            f"gate.candidate_test_{metric}": self.candidate_score,
            f"gate.champion_test_{metric}": self.champion_score,
            f"gate.candidate_recent_{metric}": self.candidate_recent,
            f"gate.champion_recent_{metric}": self.champion_recent,
        }
        return tags, {name: value for name, value in scores.items() if value is not None}


def promote(
    params: Params,
    settings: Settings,
    paths: Paths,
    recent: pd.DataFrame | None = None,
    recent_sources: Sequence[SourceUse] = (),
) -> Decision:
    """Compare the newest version with @champion on data/processed/test.csv and on `recent` (labelled feedback the
    candidate never trained on, in the training data's columns, sent by `recent_sources`), move the aliases and
    record the decision. A candidate that wins only because the guard was waived waits as @challenger for a person
    (jobs.approve)."""
    metric, name = params.promote.metric, settings.model_name
    check_metric(params.task, metric)
    tracking.connect(settings)
    for settled in tracking.settle_moves(name):  # a move an earlier command left half-done (docs/team-stack.md)
        say("promote", settled)
    newest = tracking.latest_version(name)
    if newest is None:
        raise LookupError(f"no version of {name!r} is registered: run `dvc repro` first")
    if recent is None and awaits_retrain_gate(tracking.run_tags(name, str(newest.version))):
        raise UserError(
            f"version {newest.version} was registered by a `retrain` that stopped before its gate judged it on the "
            "recent feedback, which promote alone does not have: run `retrain` again, which trains and judges a new "
            "version (this one is never served)"
        )
    expectations = load_expectations(paths)
    test = read_frame(paths / TEST, expectations)
    recent = test.iloc[:0] if recent is None else recent
    target = params.data.target

    def metric_of(version: str, rows: pd.DataFrame) -> float:
        scores = score(params.task, tracking.load_version(name, version), rows.drop(columns=target), rows[target])
        if metric not in scores:
            raise ValueError(f"{metric} cannot be computed on these rows (scores: {scores})")
        return scores[metric]

    def recent_metric_of(version: str) -> float | None:
        # A slice with one class has no roc_auc, say: the gate then falls back to the test split and says why.
        try:
            return metric_of(version, recent) if len(recent) else None
        except ValueError:
            return None

    candidate = str(newest.version)
    candidate_score = metric_of(candidate, test)
    current = tracking.version_by_alias(name, tracking.CHAMPION)
    if current is None:
        first = Decision(candidate, None, "", candidate_score, None, "there is no champion yet")
        return _decide(name, first, True, metric, str(newest.run_id))
    champion = str(current.version)
    if champion == candidate:
        return Decision(candidate, champion, tracking.CHAMPION, candidate_score, candidate_score, "already champion")
    try:
        champion_score = metric_of(champion, test)
    except (KeyError, ValueError) as error:
        # The data changed shape (bring your own data): the old champion cannot even read the new test split.
        reason = f"the champion cannot score the current test split ({error})"
        proposal = Decision(candidate, champion, "", candidate_score, None, reason)
        return _decide(name, proposal, True, metric, str(newest.run_id))
    waiting = waiting_version(settings)
    if waiting is not None and waiting[0] == candidate:
        # retrain judged it on recent feedback this run does not have: judging it again on the test split alone would
        # overwrite that evidence on its run (gate.*), which the approval and monitoring's quality baseline read.
        still = (
            f"it waits for a person's approval since retrain judged it on recent feedback "
            f"(`promote --approve {candidate} --reason TEXT` serves it); promote alone does not judge it again"
        )
        return Decision(
            candidate, champion, tracking.CHALLENGER, candidate_score, champion_score, still, awaiting_approval=True
        )
    candidate_recent, champion_recent = recent_metric_of(candidate), recent_metric_of(champion)
    verdict = judge(
        metric,
        Scores(candidate_score, candidate_recent),
        Scores(champion_score, champion_recent),
        recent_rows=len(recent),
        margin=params.promote.margin,
        guard=params.promote.guard,
        min_recent=params.promote.min_recent,
        recent_sources=sum(1 for use in recent_sources if use.used),
        min_sources=params.promote.min_sources,
    )
    wins, reason = verdict.promote, verdict.reason
    if wins:
        # The running service's own rule (service/replacement.py): a version it would refuse stays @challenger.
        refused = registered_refusal(settings, champion, candidate)
        if refused is not None:
            wins, reason = False, f"{reason}, but a running service could not serve it: {refused}"
    proposal = Decision(
        candidate,
        champion,
        "",
        candidate_score,
        champion_score,
        reason,
        verdict.rule,
        len(recent),
        candidate_recent,
        champion_recent,
    )
    if wins and verdict.waived:
        proposal = replace(
            proposal,
            reason=f"{proposal.reason}; it wins only because the guard is waived, and a metric cannot tell a changed "
            f"world from wrong labels: it waits as @challenger until a person runs `promote --approve {candidate} "
            "--reason TEXT`",
            awaiting_approval=True,
        )
        evidence = {
            "reason": proposal.reason,
            "scores": proposal.record(metric)[1],
            "recent_sources": {use.source: use.used for use in recent_sources},
        }
        mark_waiting(settings, candidate, evidence)  # before the alias: a @challenger never waits without its evidence
        decision = _decide(name, proposal, False, metric, str(newest.run_id))
        tell_approvers(settings, candidate, champion, evidence)
        return decision
    return _decide(name, proposal, wins, metric, str(newest.run_id))


def stopped_retrain_version(settings: Settings) -> str | None:
    """The newest version, when a `retrain` registered it and stopped before its gate (core.promotion_gate)."""
    newest = tracking.latest_version(settings.model_name)
    if newest is None:
        return None
    tags = tracking.run_tags(settings.model_name, str(newest.version))
    return str(newest.version) if awaits_retrain_gate(tags) else None


def _decide(name: str, proposal: Decision, win: bool, metric: str, run_id: str) -> Decision:
    """Record the decision on the candidate's run, then move the aliases (always through tracking.set_alias, which
    records who, when, why and the scores). In that order: a registry that goes away between the two leaves a
    decision whose alias has not moved yet, which the same command run again makes anew; never a moved alias
    without the gate's reasons on its run."""
    alias = tracking.CHAMPION if win else tracking.CHALLENGER
    decision = replace(proposal, alias=alias)
    _record(decision, metric, run_id)
    tracking.set_alias(name, alias, decision.candidate, decision.reason, decision.record(metric)[1])
    challenger = tracking.version_by_alias(name, tracking.CHALLENGER)
    if win and challenger is not None and str(challenger.version) == decision.candidate:
        tracking.delete_alias(name, tracking.CHALLENGER)  # it lost once, then won: one alias says where it stands
    return decision


def _record(decision: Decision, metric: str, run_id: str) -> None:
    """Write the decision on the candidate's run: whoever opens it in MLflow sees why it is (not) the champion."""
    tags, scores = decision.record(metric)
    client = MlflowClient()
    for key, text in tags.items():
        client.set_tag(run_id, key, text[:5000])  # MLflow caps a tag value's length
    for key, number in scores.items():
        client.log_metric(run_id, key, number)


def main() -> int:
    params = load_params()
    settings = get_settings()
    decision = promote(params, settings, Paths(find_project_root()))
    say_decision("promote", decision, params.promote.metric)
    if decision.moved_champion:
        say("promote", tell_running_service(settings))
    return 0


def say_decision(step: str, decision: Decision, metric: str) -> None:
    """The decision as a learner reads it: both scores on each set, then the verdict with its reason."""

    def shown(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.4f}"

    champion = "none" if decision.champion is None else f"version {decision.champion}"
    say(
        step,
        f"{metric} on the test split: candidate version {decision.candidate} {shown(decision.candidate_score)}, "
        f"champion ({champion}) {shown(decision.champion_score)}",
    )
    if decision.recent_rows:
        say(
            step,
            f"{metric} on the {decision.recent_rows} newest feedback rows: candidate "
            f"{shown(decision.candidate_recent)}, champion {shown(decision.champion_recent)}",
        )
    say(step, f"version {decision.candidate} is now @{decision.alias}: {decision.reason}")


if __name__ == "__main__":
    run_job(main, "promote")
