"""Every monitoring run is remembered: a line in history.jsonl and snapshots in the local Evidently workspace."""

import json
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
    panels = workspace.get_dashboard(project.id).panels
    assert {panel.title for panel in panels} == {
        "Share of drifted features",
        f"{loop.params.promote.metric} on feedback",
    }
