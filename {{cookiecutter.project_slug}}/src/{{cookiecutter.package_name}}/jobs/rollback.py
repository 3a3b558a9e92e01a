"""`rollback`: move @champion back to an earlier version, refusing one the running service could not serve."""

from ..core.alias_history import Move, previous_champion, rollback_reason
from ..core.promotion_gate import awaits_retrain_gate
from ..io import tracking
from ..service.replacement import registered_refusal
from ..settings import Settings, get_settings
from .context import say
from .service_notice import tell_running_service


class RollbackRefusedError(ValueError):
    """The rollback was not made, and the registry is unchanged; the message says why in one sentence."""


def rollback(settings: Settings, to: str | None = None, why: str | None = None) -> Move:
    """Move @champion to version `to` (by default the champion before the current one) and record it as a rollback."""
    name, alias = settings.model_name, tracking.CHAMPION
    tracking.connect(settings)
    # First: a promotion left half-done would be missing from the timeline that names the version to go back to.
    for settled in tracking.settle_moves(name):
        say("rollback", settled)
    current = tracking.version_by_alias(name, alias)
    if current is None:
        raise RollbackRefusedError(f"{name!r} has no @{alias} to roll back: run `make promote` first")
    champion = str(current.version)
    target = to.strip() if to is not None else previous_champion(tracking.alias_timeline(name, alias), champion)
    if target is None:
        raise RollbackRefusedError(
            f"the recorded history names no champion before version {champion}: choose one with --to VERSION "
            "(`history` lists the moves)"
        )
    versions = tracking.registered_versions(name)
    if target not in versions:
        raise RollbackRefusedError(f"version {target} of {name!r} does not exist (registered: {', '.join(versions)})")
    if target == champion:
        raise RollbackRefusedError(f"version {target} is already @{alias}: nothing to roll back")
    if awaits_retrain_gate(tracking.run_tags(name, target)):
        raise RollbackRefusedError(
            f"version {target} was registered by a `retrain` that stopped before its gate judged it: a version "
            "nobody judged is never served (`history` lists the champions to go back to)"
        )
    # The rule the running service applies when it reloads: a version it would refuse never becomes @champion.
    refused = registered_refusal(settings, champion, target)
    if refused is not None:
        raise RollbackRefusedError(f"a running service could not serve it: {refused}")
    # Both versions' test figures, so that the timeline says what the rollback traded, as a promotion's gate does.
    scores = {f"to.{key}": value for key, value in tracking.test_metrics(name, target).items()}
    scores |= {f"from.{key}": value for key, value in tracking.test_metrics(name, champion).items()}
    return tracking.set_alias(name, alias, target, rollback_reason(why), scores)


def main(to: str | None = None, why: str | None = None) -> int:
    settings = get_settings()
    try:
        move = rollback(settings, to, why)
    except RollbackRefusedError as refused:
        say("rollback", f"refused: {refused}")
        return 1
    say("rollback", f"@{move.alias} moved from version {move.from_version} to {move.to_version} ({move.reason})")
    say("rollback", tell_running_service(settings))
    return 0
