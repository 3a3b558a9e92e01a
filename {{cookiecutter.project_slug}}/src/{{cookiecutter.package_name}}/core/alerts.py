"""The message a monitoring breach sends: the project's own JSON shape, or Slack's incoming-webhook shape."""

from typing import Any, Literal

from .monitoring import Summary

AlertFormat = Literal["json", "slack"]


def alert_message(summary: Summary, links: dict[str, str]) -> dict[str, Any]:
    """What breached, with the figures and thresholds, the model version and where the reports are."""
    return {
        "event": "monitoring_breach",
        "model": {"name": summary.model_name, "version": summary.model_version, "task": summary.task},
        "window": summary.window,
        "created_at": summary.created_at.isoformat(),
        "breaches": [breach.model_dump() for breach in summary.breaches],
        "figures": {
            "drift_share": summary.drift_share,
            "drift_threshold": summary.drift_threshold,
            "drifted_columns": summary.drifted_columns,
            "quality_metric": summary.quality_metric,
            "quality": summary.quality.get(summary.quality_metric),
            "champion_test": summary.champion_test.get(summary.quality_metric),
            "quality_baseline": None if summary.quality_baseline is None else summary.quality_baseline.model_dump(),
            "n_current": summary.n_current,
            "n_labeled": summary.n_labeled,
            "out_of_range_share": summary.out_of_range_share,
        },
        "links": links,
    }


def slack_message(summary: Summary, links: dict[str, str]) -> dict[str, Any]:
    """Slack's incoming webhooks take `text` (the notification line) and optional Block Kit `blocks`."""
    headline = f"Monitoring breach: {summary.model_name} v{summary.model_version} ({summary.window['description']})"
    details = "\n".join(f"• {breach.message}" for breach in summary.breaches)
    where = "\n".join(f"{name}: {link}" for name, link in links.items())
    return {
        "text": headline,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": headline[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": details}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": where or "no report links"}]},
        ],
    }


def render_alert(summary: Summary, links: dict[str, str], shape: AlertFormat) -> dict[str, Any]:
    return slack_message(summary, links) if shape == "slack" else alert_message(summary, links)


def approval_message(model: str, version: str, champion: str | None, evidence: dict[str, Any]) -> dict[str, Any]:
    """A candidate won only because the test-split guard was waived: a person must look before it is served."""
    return {
        "event": "approval_needed",
        "model": {"name": model, "version": version, "champion": champion},
        "evidence": evidence,
        "approve": f"promote --approve {version} --reason TEXT",
    }


def render_approval(message: dict[str, Any], shape: AlertFormat) -> dict[str, Any]:
    if shape == "json":
        return message
    model = message["model"]
    headline = (
        f"Approval needed: {model['name']} v{model['version']} waits as @challenger "
        f"(champion v{model['champion']}); run `{message['approve']}` to serve it"
    )
    return {"text": headline, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": headline[:3000]}}]}
