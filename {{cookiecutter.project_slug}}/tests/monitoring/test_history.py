"""Every monitoring run is remembered: a line in history.jsonl and snapshots in the local Evidently workspace."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.core.monitoring import history_entry
from {{ cookiecutter.package_name }}.io.monitoring_history import HISTORY, append_history, read_history
from {{ cookiecutter.package_name }}.settings import Settings

from .conftest import Loop, project_settings
from .test_thresholds import make_summary


def loop_settings(loop: Loop, **overrides: Any) -> Settings:
    """The loop's project, pinned to the version its predictions were logged for: another test may promote a new
    champion in the same session, and `@champion` would then have no prediction in the log."""
    pinned = f"models:/{loop.settings.model_name}/{loop.normal.model_version}"
    return project_settings(loop.paths.root, model_uri=pinned, **overrides)


def test_history_lines_round_trip_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    calm, drifted = make_summary(drifted=False), make_summary(drifted=True)
    append_history(tmp_path, history_entry(calm))
    append_history(tmp_path, history_entry(drifted))
    with (tmp_path / HISTORY).open("a", encoding="utf-8") as history:
        history.write('{"created_at": "2025-')  # a writer killed mid-line
    entries = read_history(tmp_path)
    assert [(e.drift_share, e.drift_detected, e.breaches) for e in entries] == [
        (0.1, False, []),
        (0.8, True, ["data_drift"]),
    ]
    assert entries[0].quality_metric == "roc_auc" and entries[0].quality_value == 0.91
    assert entries[0].run_dir == "x"
    assert read_history(tmp_path, last=1) == entries[1:]


def test_no_history_reads_as_empty(tmp_path: Path) -> None:
    assert read_history(tmp_path) == []


SERVE_HISTORY = """
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.service.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

root = Path(sys.argv[1])
settings = Settings(
    _env_file=None,
    project_root=root,
    mlflow_tracking_uri=f"sqlite:///{root / 'mlflow.db'}",
    database_url=f"sqlite:///{root / 'predictions.db'}",
    monitoring_dir=root / "monitoring",
)
client = TestClient(create_app(settings))
history, page = client.get("/monitoring/history"), client.get("/monitoring")
figures = (history.status_code, len(history.json()), page.status_code, page.text.count('data-series="drift" cx='))
# The last line: the service's JSON logs go to stdout before it.
print(*figures, "evidently" in sys.modules)
"""


def test_the_service_serves_the_history_and_trend_without_importing_evidently(tmp_path: Path) -> None:
    root = tmp_path / "monitoring"
    for drifted in (False, True):
        append_history(root, history_entry(make_summary(drifted=drifted)))
    (root / "latest").mkdir()
    (root / "latest" / "report.html").write_text("<html><body><div id=root_1></div></body></html>", encoding="utf-8")
    # A fresh interpreter: this test process may have imported Evidently for another test.
    done = subprocess.run(
        [sys.executable, "-c", SERVE_HISTORY, str(tmp_path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "200 2 200 2 False"


@pytest.mark.slow
def test_three_monitoring_runs_give_three_history_lines_and_a_workspace_trend(loop: Loop, tmp_path: Path) -> None:
    from evidently.ui.workspace import Workspace

    from {{ cookiecutter.package_name }}.io.evidently_workspace import WORKSPACE
    from {{ cookiecutter.package_name }}.jobs import monitor

    root = tmp_path / "monitoring"
    settings = loop_settings(loop, monitoring_dir=root)
    summaries = [monitor.run(settings, loop.params, last=last) for last in (360, 180, 90)]
    lines = (root / HISTORY).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    recorded = [json.loads(line) for line in lines]
    for line, summary in zip(recorded, summaries, strict=True):
        assert summary is not None
        assert line["model_version"] == summary.model_version
        assert line["drift_share"] == summary.drift_share
        assert line["quality_metric"] == loop.params.promote.metric
        assert line["quality_value"] == summary.quality.get(loop.params.promote.metric)
        assert line["out_of_range_share"] == summary.out_of_range_share
    workspace = Workspace(str(root / WORKSPACE))
    [project] = workspace.search_project(loop.settings.model_name)
    snapshots = [workspace.get_run(project.id, found) for found in workspace.list_runs(project.id)]
    names = sorted(snapshot.name for snapshot in snapshots if snapshot is not None)
    # A drift snapshot per run, and a quality one per run with feedback (every window here has some).
    assert names == ["drift"] * 3 + ["quality"] * 3
    from fastapi.testclient import TestClient

    from {{ cookiecutter.package_name }}.service.app import create_app

    # The service's view of the same runs, without its lifespan: the history is a file, no model is needed.
    served = TestClient(create_app(settings)).get("/monitoring/history").json()
    assert [(run["created_at"], run["drift_share"]) for run in served] == [
        (line["created_at"].replace("+00:00", "Z"), line["drift_share"]) for line in recorded
    ]
    assert TestClient(create_app(settings)).get("/monitoring/history?last=1").json() == served[-1:]
    panels = workspace.get_dashboard(project.id).panels
    assert {panel.title for panel in panels} == {
        "Share of drifted features",
        f"{loop.params.promote.metric} on feedback",
    }
