"""GET /monitoring (with the trend), /monitoring/quality, /monitoring/summary and /monitoring/history, from disk.

The reports and the history are files, so the service never imports Evidently (slow to import, heavy in memory);
`monitor` runs as a batch job (cron, CI schedule) and the service only shows what it wrote.
"""

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import FileResponse, HTMLResponse

from ...core.monitoring import HistoryEntry
from ...core.source_review import SourceFeedback, sources_section
from ...core.trend_plot import trend_section
from ...io.monitoring_history import read_history
from ...io.monitoring_reports import LATEST, QUALITY, REPORT, SUMMARY
from ..deps import SettingsDep

router = APIRouter(prefix="/monitoring", tags=["monitoring"])
# A bound on one answer; history.jsonl keeps every run, and a year of hourly runs is under this.
MAX_RUNS = 10_000
NOT_YET: dict[int | str, dict[str, Any]] = {404: {"description": "No monitoring report has been written yet"}}


def latest_file(directory: Path, name: str, missing: str) -> FileResponse:
    path = directory / LATEST / name
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, missing)
    # No caching: the same URL shows a new report after every `monitor` run.
    return FileResponse(path, headers={"Cache-Control": "no-store"})


NO_REPORT = (
    f"no monitoring report yet: run `{__name__.split('.')[0]} monitor` (or `make monitor`) once predictions are logged"
)


def latest_sources(directory: Path) -> list[SourceFeedback]:
    """The feedback sources of the latest run's summary.json (none in one written before sources were reviewed)."""
    try:
        summary = json.loads((directory / LATEST / SUMMARY).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return []
    return [SourceFeedback.model_validate(found) for found in summary.get("sources", [])]


@router.get("", response_class=HTMLResponse, responses=NOT_YET)
def drift_report(settings: SettingsDep) -> HTMLResponse:
    """The Evidently report of the latest run (data drift, data summary, prediction drift) under the trend of all runs
    and the latest run's feedback sources (a flagged one in red).

    A plain `def`: FastAPI runs it in its thread pool, so reading the report (megabytes) never blocks the event loop.
    """
    path = settings.monitoring_dir / LATEST / REPORT
    try:
        report = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_REPORT) from None
    trend = trend_section(read_history(settings.monitoring_dir)) + sources_section(
        latest_sources(settings.monitoring_dir)
    )
    # Inside <body>, before Evidently's own root element: the report's scripts find theirs by id and are untouched.
    head, tag, rest = report.partition("<body>")
    page = f"{head}{tag}{trend}{rest}" if tag else trend + report
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@router.get("/quality", response_class=FileResponse, responses=NOT_YET)
async def quality_report(settings: SettingsDep) -> FileResponse:
    """Quality of the predictions that received feedback, next to the champion's on its test split (HTML)."""
    missing = "no quality report in the latest monitoring run: it needs predictions with feedback in its window"
    return latest_file(settings.monitoring_dir, QUALITY, missing)


@router.get("/summary", response_class=FileResponse, responses=NOT_YET)
async def summary(settings: SettingsDep) -> FileResponse:
    """summary.json of the latest run: drift, quality on feedback, thresholds crossed, window and model version."""
    return latest_file(settings.monitoring_dir, SUMMARY, NO_REPORT)


@router.get("/history", response_model=list[HistoryEntry])
def history(
    settings: SettingsDep,
    last: Annotated[int | None, Query(ge=1, le=MAX_RUNS, description="Only the last N runs")] = None,
) -> list[HistoryEntry]:
    """Every monitoring run's headline figures from history.jsonl, oldest first; an empty list before the first run."""
    return read_history(settings.monitoring_dir, last)
