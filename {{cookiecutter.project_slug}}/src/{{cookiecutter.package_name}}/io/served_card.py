"""Which model card the service shows for the version it serves; plain file reads, so the service never needs MLflow.

Two copies can exist: the card logged with the version's run, which the service fetched when it loaded the model,
and reports/monitoring/latest/MODEL_CARD.md, which `monitor` rewrites after every run with the latest status (and
logs back to the run). The file wins when it is this version's card: it is the newer of the two, since the service
read the run's copy only when it loaded the model.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..core.model_card import CARD
from .monitoring_reports import LATEST


@dataclass(frozen=True)
class FoundCard:
    """A card's Markdown and where it came from."""

    text: str
    source: Literal["monitoring", "registry"]


def monitored_card(monitoring_dir: Path, run_id: str) -> str | None:
    """latest/MODEL_CARD.md when it is the card of this run's version, None otherwise (missing, or another version's).

    The card logged to a run names that run in its Lineage section; the file may still hold an earlier champion's
    card when `monitor` has not run since the alias moved.
    """
    path = monitoring_dir / LATEST / CARD
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return text if f"MLflow run `{run_id}`" in text else None


def served_card(monitoring_dir: Path, run_id: str | None, loaded: str | None) -> FoundCard | None:
    """The card to show for a served version: monitor's refreshed copy if it is this version's, else the loaded one."""
    refreshed = monitored_card(monitoring_dir, run_id) if run_id else None
    if refreshed is not None:
        return FoundCard(refreshed, "monitoring")
    return FoundCard(loaded, "registry") if loaded is not None else None
