"""Monitoring reports on disk: one folder per run under reports/monitoring/, the newest copied to latest/."""

import os
import shutil
from datetime import datetime
from pathlib import Path

LATEST = "latest"
REPORT, QUALITY, SUMMARY = "report.html", "quality.html", "summary.json"


def new_run_dir(root: Path, now: datetime) -> Path:
    """reports/monitoring/<UTC timestamp>/, made unique if two runs start in the same second."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    path, attempt = root / stamp, 1
    while path.exists():
        attempt += 1
        path = root / f"{stamp}-{attempt}"
    path.mkdir(parents=True)
    return path


def publish(run_dir: Path, root: Path) -> Path:
    """Copy a finished run to latest/, file by file with atomic renames, so that a reader (the service) never sees
    a half-written file; a quality report the new run does not have is removed."""
    latest = root / LATEST
    latest.mkdir(parents=True, exist_ok=True)
    for name in (REPORT, QUALITY, SUMMARY):
        source, target = run_dir / name, latest / name
        if source.is_file():
            partial = latest / f".{name}.partial"
            shutil.copyfile(source, partial)
            os.replace(partial, target)
        elif target.exists():
            target.unlink()
    return latest
