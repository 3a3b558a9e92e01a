"""The loop through the real service: traffic, feedback, monitoring (no drift, then drift), reports, retraining."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from {{ cookiecutter.package_name }}.io import tracking
from {{ cookiecutter.package_name }}.jobs import retrain
from {{ cookiecutter.package_name }}.jobs.context import TEST, TRAIN
from {{ cookiecutter.package_name }}.service.app import create_app

from .conftest import TASK, Loop, project_settings

pytestmark = pytest.mark.slow


def test_normal_traffic_is_not_flagged(loop: Loop) -> None:
    assert loop.normal.n_current == 180
    assert not loop.normal.drift_detected
    assert loop.normal.breaches == []
    assert "<title>Drift: " in loop.normal_html


def test_drifted_traffic_is_flagged_as_a_breach(loop: Loop) -> None:
    summary = loop.drifted
    assert summary.window["description"] == "last 180 predictions"
    assert summary.n_current == 180  # the window holds the drifted traffic only
    assert summary.drift_detected
    assert summary.drift_share >= loop.params.monitor.drift_share
    assert {"mean radius", "area"} <= set(summary.drifted_columns)
    assert "data_drift" in [breach.check for breach in summary.breaches]


def test_quality_is_computed_from_feedback_and_compared_with_the_test_split(loop: Loop) -> None:
    summary = loop.drifted
    metric = loop.params.promote.metric
    assert 60 < summary.n_labeled < 120
    assert metric in summary.quality
    assert metric in summary.champion_test
    assert Path(summary.reports["quality_html"]).is_file()
    expected = {"accuracy", "f1"} if TASK == "classification" else {"rmse", "mae", "r2"}
    assert expected <= set(summary.quality)


def test_latest_report_is_served_from_disk(loop: Loop) -> None:
    client = TestClient(create_app(loop.settings))  # no lifespan: the routes read files, not the model
    page = client.get("/monitoring")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<title>Drift: " in page.text
    assert "last 180 predictions" in page.text
    served = client.get("/monitoring/summary").json()
    assert served == json.loads((loop.settings.monitoring_dir / "latest" / "summary.json").read_text())
    assert served["drift_detected"] is True
    assert client.get("/monitoring/quality").status_code == 200


def test_the_service_process_never_imports_evidently() -> None:
    code = (
        "import sys; from {{ cookiecutter.package_name }}.service.app import create_app; create_app(); "
        "assert 'evidently' not in sys.modules, 'the service imported evidently'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_monitoring_before_any_report_is_404_with_a_hint(tmp_path: Path) -> None:
    client = TestClient(create_app(project_settings(tmp_path)))
    response = client.get("/monitoring")
    assert response.status_code == 404
    assert "monitor" in response.json()["detail"]
    assert client.get("/monitoring/summary").status_code == 404


def test_monitoring_needs_the_api_key_when_one_is_set(loop: Loop) -> None:
    settings = project_settings(loop.settings.project_root, api_key="k-123")
    client = TestClient(create_app(settings))
    assert client.get("/monitoring/summary").status_code == 401
    assert client.get("/monitoring/summary", headers={"X-API-Key": "k-123"}).status_code == 200


def test_retraining_on_feedback_registers_a_new_version(loop: Loop) -> None:
    settings, params, paths = loop.settings, loop.params, loop.paths
    client = MlflowClient(settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri)
    before = max(int(v.version) for v in client.search_model_versions(f"name = '{settings.model_name}'"))
    champion = client.get_model_version_by_alias(settings.model_name, "champion").version
    result = retrain.retrain(params, settings, paths)
    if result is not None and not isinstance(result, retrain.AllQuarantined) and result.decision.alias == "champion":
        # The session's loop is shared: the tests after this one monitor the traffic the first champion served.
        tracking.set_alias(settings.model_name, "champion", str(champion))
    assert isinstance(result, retrain.Retrained)
    assert int(result.version) == before + 1
    assert result.decision.alias in {"champion", "challenger"}
    assert result.exported == loop.normal.n_labeled + loop.drifted.n_labeled
    exported = pd.read_csv(paths / retrain.FEEDBACK)
    assert len(exported) == result.exported - result.quarantined
    combined, original = pd.read_csv(paths / retrain.TRAIN_WITH_FEEDBACK), pd.read_csv(paths / TRAIN)
    assert len(combined) == len(original) + result.added
    # Normal traffic replays test rows: none of them may reach the training data, or the gate would be unfair.
    test_rows = pd.read_csv(paths / TEST).drop(columns="target")
    added = combined.iloc[len(original) :].drop(columns="target")
    assert added.merge(test_rows, how="inner").empty
    run = client.get_run(str(client.get_model_version(settings.model_name, result.version).run_id))
    assert run.data.tags["lineage.data.feedback"]
    assert "test_" + params.promote.metric in run.data.metrics
