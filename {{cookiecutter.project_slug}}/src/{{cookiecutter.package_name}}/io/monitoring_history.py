"""The monitoring history on disk: one JSON line per run in reports/monitoring/history.jsonl, oldest first.

Plain JSON lines, so that the service (and a shell) can read the trend without importing Evidently.
"""

from pathlib import Path

from ..core.monitoring import HistoryEntry

HISTORY = "history.jsonl"


def append_history(root: Path, entry: HistoryEntry) -> Path:
    """Add one line; a single write of a whole line, so a concurrent reader sees it complete or not at all."""
    path = root / HISTORY
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8", newline="\n") as history:
        history.write(entry.model_dump_json() + "\n")
    return path


def read_history(root: Path, last: int | None = None) -> list[HistoryEntry]:
    """Every run recorded under root (the last N when asked), oldest first; a torn last line is skipped."""
    path = root / HISTORY
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                entries.append(HistoryEntry.model_validate_json(line))
            except ValueError:
                continue
    return entries[-last:] if last else entries
