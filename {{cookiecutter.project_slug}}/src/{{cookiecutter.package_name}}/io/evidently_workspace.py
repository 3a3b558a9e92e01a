"""A local Evidently workspace beside the reports, so that `evidently ui` (make monitoring-ui) charts runs over time."""

from pathlib import Path

from evidently.core.report import Snapshot
from evidently.sdk.models import PanelMetric
from evidently.sdk.panels import line_plot_panel
from evidently.ui.workspace import Project, Workspace

WORKSPACE = "workspace"
# promote.metric -> the Evidently metric of the quality report that computes the same thing.
QUALITY_METRICS = {
    "roc_auc": "RocAuc",
    "accuracy": "Accuracy",
    "f1": "F1Score",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R2Score",
}


def open_project(workspace: Workspace, name: str, quality_metric: str) -> Project:
    """The model's project, created on the first run with its two trend panels (the dashboard lives with it)."""
    found = workspace.search_project(name)
    if found:
        return found[0]
    project = workspace.create_project(name, description=f"Monitoring runs of {name} (`monitor`)")
    project.dashboard.add_panel(
        line_plot_panel(
            "Share of drifted features",
            [PanelMetric(legend="drift share", metric="DriftedColumnsCount", metric_labels={"value_type": "share"})],
        )
    )
    project.dashboard.add_panel(
        line_plot_panel(
            f"{quality_metric} on feedback",
            [PanelMetric(legend=quality_metric, metric=QUALITY_METRICS.get(quality_metric, quality_metric))],
        )
    )
    return project


def record_run(root: Path, name: str, quality_metric: str, snapshots: dict[str, Snapshot]) -> int:
    """Add a run's snapshots (drift; quality when there was feedback) to the project; return its snapshot count."""
    workspace = Workspace(str(root / WORKSPACE))
    project = open_project(workspace, name, quality_metric)
    for kind, snapshot in snapshots.items():
        workspace.add_run(project.id, snapshot, name=kind)
    return len(workspace.list_runs(project.id))
