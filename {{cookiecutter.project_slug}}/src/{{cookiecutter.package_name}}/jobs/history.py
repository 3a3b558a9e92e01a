"""`history`: @champion's timeline as recorded in the MLflow registry, newest move first."""

import json
import sys
from dataclasses import asdict

from mlflow.exceptions import MlflowException

from ..core.alias_history import Move
from ..io import tracking
from ..io.registry_errors import is_permission_denied
from ..settings import Settings, get_settings
from .approve import waiting_version


def champion_history(settings: Settings) -> list[Move]:
    """The moves of @champion, newest first: the question is usually "what changed lately"."""
    tracking.connect(settings)
    # A move an earlier command left half-done is finished (or dropped) first, so that the history is whole; said on
    # stderr, which keeps stdout what --json promises.
    try:
        settled = tracking.settle_moves(settings.model_name)
    except MlflowException as error:
        if not is_permission_denied(error):
            raise
        # A read-only login (the service's, a dashboard's) may read the history but not finish someone's move.
        settled = [
            "a move an earlier command began is not settled: this login may only read the registry, so the "
            "next promote, rollback or history by an editor records or drops it"
        ]
    for said in settled:
        print(f"[history] {said}", file=sys.stderr)
    return list(reversed(tracking.alias_timeline(settings.model_name, tracking.CHAMPION)))


def describe(move: Move) -> str:
    """One move on one line: time, actor, from → to, the scores, the reason (`approved: ...` when a person approved
    a candidate the gate would not serve alone)."""
    before = "none" if move.from_version is None else move.from_version
    scores = ", ".join(f"{name} {value:.4f}" for name, value in move.scores.items()) or "no scores"
    return f"{move.at}  {move.actor}  {before} → {move.to_version}  [{scores}]  {move.reason}"


def main(as_json: bool = False) -> int:
    settings = get_settings()
    moves = champion_history(settings)
    if as_json:
        print(
            json.dumps({"model": settings.model_name, "alias": tracking.CHAMPION, "moves": [asdict(m) for m in moves]})
        )
        return 0
    if not moves:
        # A registry from before moves were recorded has a champion but no timeline: say where the record starts.
        print(f"no recorded move of @{tracking.CHAMPION} for {settings.model_name!r}: promote and rollback record them")
        return 0
    print(f"@{tracking.CHAMPION} of {settings.model_name!r}, newest first ({len(moves)} moves):")
    for move in moves:
        print(describe(move))
    waiting = waiting_version(settings)
    if waiting is not None:
        print(
            f"version {waiting[0]} waits as @{tracking.CHALLENGER} for a person: it won only because the test-split "
            f"guard was waived (`promote --approve {waiting[0]} --reason TEXT` serves it)"
        )
    return 0
