"""`promote --approve`: a candidate that won only because the test-split guard was waived is served once a person
says so.

A metric cannot tell a changed world (concept drift) from label poisoning: both make the champion collapse on recent
feedback. So the gate does not move @champion then: the candidate becomes @challenger with the evidence on its
registry version (tags `approval.*`), the alert webhook is told, and `promote --approve VERSION --reason TEXT` moves
@champion, recording who approved and why in the alias history (core.alias_history).
"""

import json
from pathlib import Path
from typing import Any

from mlflow import MlflowClient

from ..core.alerts import approval_message, render_approval
from ..core.alias_history import Move, clip
from ..io import tracking
from ..io.monitoring_reports import SUMMARY
from ..io.webhook import post_alert
from ..settings import Settings, get_settings
from ..user_errors import UserError
from .context import say
from .service_notice import tell_running_service

STATUS, EVIDENCE = "approval.status", "approval.evidence"  # tags of the registry version
WAITING, APPROVED = "waiting", "approved"
APPROVED_PREFIX = "approved: "  # the reason an approval records: `approved: <why>`


def monitoring_evidence(settings: Settings) -> dict[str, Any] | None:
    """The headline of the latest monitoring summary (GET /monitoring/summary), None before the first run."""
    path = Path(settings.monitoring_dir) / "latest" / SUMMARY
    if not path.is_file():
        return None
    summary = json.loads(path.read_text(encoding="utf-8"))
    keys = ("created_at", "model_version", "window", "n_labeled", "quality_metric", "quality", "breaches", "sources")
    return {key: summary[key] for key in keys if key in summary}


def mark_waiting(settings: Settings, version: str, evidence: dict[str, Any]) -> None:
    """Record on the version that it waits for a person, with the evidence (promote writes it before the alias)."""
    evidence = evidence | {"monitoring": monitoring_evidence(settings)}
    client = MlflowClient()
    client.set_model_version_tag(settings.model_name, version, STATUS, WAITING)
    client.set_model_version_tag(settings.model_name, version, EVIDENCE, clip(json.dumps(evidence, default=str)))


def tell_approvers(settings: Settings, version: str, champion: str | None, evidence: dict[str, Any]) -> bool:
    """Tell the alert webhook, when one is set, that a version waits for approval. True when the webhook took it."""
    if settings.alert_webhook_url is None:
        return False
    evidence = evidence | {"monitoring": monitoring_evidence(settings)}
    message = approval_message(settings.model_name, version, champion, evidence)
    return post_alert(settings.alert_webhook_url, render_approval(message, settings.alert_format))


def waiting_version(settings: Settings) -> tuple[str, dict[str, str]] | None:
    """The @challenger that waits for approval, with its tags, if there is one."""
    challenger = tracking.version_by_alias(settings.model_name, tracking.CHALLENGER)
    tags = dict(challenger.tags or {}) if challenger is not None else {}
    if challenger is None or tags.get(STATUS) != WAITING:
        return None
    return str(challenger.version), tags


def approve(settings: Settings, version: str, reason: str) -> Move:
    """Move @champion to the waiting challenger `version`, recording the reason and who approved it."""
    tracking.connect(settings)
    for settled in tracking.settle_moves(settings.model_name):  # a move an earlier command left half-done
        say("promote", settled)
    if not reason.strip():
        raise UserError("say why with --reason TEXT: the reason is kept in the alias history with your name")
    waiting = waiting_version(settings)
    if waiting is None or waiting[0] != version.strip():
        which = f"version {waiting[0]} is" if waiting else "no version is"
        raise UserError(f"version {version} is not the challenger waiting for approval: {which} (see `history`)")
    name, (waiting_number, tags) = settings.model_name, waiting
    # The gate's scores, recorded when it made the version @challenger: the approval's move carries them on.
    scores = json.loads(tags.get(f"{tracking.CHALLENGER}.scores", "{}"))
    champion = tracking.version_by_alias(name, tracking.CHAMPION)
    if champion is not None and str(champion.version) == waiting_number:
        # An approve that stopped after moving @champion (its registry went away): finish its last two steps, and
        # keep the move it recorded rather than record the same version twice.
        move = tracking.alias_timeline(name, tracking.CHAMPION)[-1]
    else:
        move = tracking.set_alias(name, tracking.CHAMPION, waiting_number, APPROVED_PREFIX + reason.strip(), scores)
    tracking.delete_alias(name, tracking.CHALLENGER)
    MlflowClient().set_model_version_tag(name, waiting_number, STATUS, APPROVED)
    return move


def main(version: str, reason: str) -> int:
    settings = get_settings()
    move = approve(settings, version, reason)
    say("promote", f"version {move.to_version} is now @{move.alias}, approved by {move.actor}: {move.reason}")
    say("promote", tell_running_service(settings))
    return 0
