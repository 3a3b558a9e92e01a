"""Move @champion to the newest registered version only if it beats the champion on the test split."""

from dataclasses import dataclass

from ..core.metrics import HIGHER_IS_BETTER, check_metric, is_better, score
from ..io import tracking
from ..io.datasets import read_frame
from ..params import Params, load_params
from ..settings import Settings, find_project_root, get_settings
from .context import TEST, Paths, load_expectations, say


@dataclass(frozen=True)
class Decision:
    candidate: str  # version numbers, as MLflow spells them
    champion: str | None  # the champion before the decision
    alias: str  # the alias the candidate received: champion or challenger
    candidate_score: float
    champion_score: float | None
    reason: str


def promote(params: Params, settings: Settings, paths: Paths) -> Decision:
    """Compare the newest version with @champion on data/processed/test.csv and move the aliases accordingly."""
    metric, name = params.promote.metric, settings.model_name
    check_metric(params.task, metric)
    tracking.connect(settings)
    newest = tracking.latest_version(name)
    if newest is None:
        raise LookupError(f"no version of {name!r} is registered: run `dvc repro` first")
    expectations = load_expectations(paths)
    test = read_frame(paths / TEST, expectations)
    features, actual = test.drop(columns=params.data.target), test[params.data.target]

    def metric_of(version: str) -> float:
        scores = score(params.task, tracking.load_version(name, version), features, actual)
        if metric not in scores:
            raise ValueError(f"{metric} cannot be computed on this test split (scores: {scores})")
        return scores[metric]

    candidate = str(newest.version)
    candidate_score = metric_of(candidate)
    current = tracking.version_by_alias(name, tracking.CHAMPION)
    if current is None:
        return _decide(name, candidate, None, candidate_score, None, "there is no champion yet", win=True)
    champion = str(current.version)
    if champion == candidate:
        return Decision(candidate, champion, tracking.CHAMPION, candidate_score, candidate_score, "already champion")
    try:
        champion_score = metric_of(champion)
    except (KeyError, ValueError) as error:
        # The data changed shape (bring your own data): the old champion cannot even read the new test split.
        reason = f"the champion cannot score the current test split ({error})"
        return _decide(name, candidate, champion, candidate_score, None, reason, win=True)
    win = is_better(metric, candidate_score, champion_score, params.promote.margin)
    direction = "higher" if HIGHER_IS_BETTER[metric] else "lower"
    verdict = "beats" if win else "does not beat"
    reason = f"{metric} {verdict} the champion by more than {params.promote.margin} ({direction} is better)"
    return _decide(name, candidate, champion, candidate_score, champion_score, reason, win=win)


def _decide(
    name: str,
    candidate: str,
    champion: str | None,
    candidate_score: float,
    champion_score: float | None,
    reason: str,
    win: bool,
) -> Decision:
    alias = tracking.CHAMPION if win else tracking.CHALLENGER
    tracking.set_alias(name, alias, candidate)
    challenger = tracking.version_by_alias(name, tracking.CHALLENGER)
    if win and challenger is not None and str(challenger.version) == candidate:
        tracking.delete_alias(name, tracking.CHALLENGER)  # it lost once, then won: one alias says where it stands
    return Decision(candidate, champion, alias, candidate_score, champion_score, reason)


def main() -> int:
    params = load_params()
    decision = promote(params, get_settings(), Paths(find_project_root()))
    metric = params.promote.metric
    champion = "none" if decision.champion is None else f"version {decision.champion}"
    champion_score = "n/a" if decision.champion_score is None else f"{decision.champion_score:.4f}"
    say("promote", f"candidate version {decision.candidate}: {metric} {decision.candidate_score:.4f}")
    say("promote", f"champion {champion}: {metric} {champion_score}")
    say("promote", f"version {decision.candidate} is now @{decision.alias}: {decision.reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
