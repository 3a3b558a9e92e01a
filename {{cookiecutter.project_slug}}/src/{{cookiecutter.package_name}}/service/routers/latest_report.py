"""GET /monitoring, /monitoring/quality and /monitoring/summary: the latest report written by `monitor`, from disk.

The reports are files, so the service never imports Evidently (slow to import, heavy in memory); `monitor` runs
as a batch job (cron, CI schedule) and the service only shows what it wrote last.
"""

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

from ...io.monitoring_reports import LATEST, QUALITY, REPORT, SUMMARY
from ..deps import SettingsDep

router = APIRouter(prefix="/monitoring", tags=["monitoring"])
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


@router.get("", response_class=FileResponse, responses=NOT_YET)
async def drift_report(settings: SettingsDep) -> FileResponse:
    """The Evidently report of the latest run: data drift, data summary and prediction drift (HTML)."""
    return latest_file(settings.monitoring_dir, REPORT, NO_REPORT)


@router.get("/quality", response_class=FileResponse, responses=NOT_YET)
async def quality_report(settings: SettingsDep) -> FileResponse:
    """Quality of the predictions that received feedback, next to the champion's on its test split (HTML)."""
    missing = "no quality report in the latest monitoring run: it needs predictions with feedback in its window"
    return latest_file(settings.monitoring_dir, QUALITY, missing)


@router.get("/summary", response_class=FileResponse, responses=NOT_YET)
async def summary(settings: SettingsDep) -> FileResponse:
    """summary.json of the latest run: drift, quality on feedback, thresholds crossed, window and model version."""
    return latest_file(settings.monitoring_dir, SUMMARY, NO_REPORT)
