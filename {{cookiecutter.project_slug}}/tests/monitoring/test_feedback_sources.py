"""No single client chooses the production model: label floods are capped and refused, and a champion's collapse
that would waive the test-split guard waits for a person. Real service, registry, retrain and webhook receiver."""

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from {{ cookiecutter.package_name }}.core.monitoring import quality_baseline, render_summary
from {{ cookiecutter.package_name }}.core.schema import infer_expectations
from {{ cookiecutter.package_name }}.core.simulation import records
from {{ cookiecutter.package_name }}.io import card_store, tracking
from {{ cookiecutter.package_name }}.io.datasets import write_expectations, write_frame
from {{ cookiecutter.package_name }}.io.reference import load_champion
from {{ cookiecutter.package_name }}.jobs import approve, history, monitor, retrain
from {{ cookiecutter.package_name }}.jobs.context import EXPECTATIONS, RAW, TEST, TRAIN, Paths
from {{ cookiecutter.package_name }}.jobs.evaluate import evaluate
from {{ cookiecutter.package_name }}.jobs.promote import promote
from {{ cookiecutter.package_name }}.jobs.train import train
from {{ cookiecutter.package_name }}.params import Params
from {{ cookiecutter.package_name }}.service.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.store.database import create_db_engine
from {{ cookiecutter.package_name }}.store.repository import add_feedback
from {{ cookiecutter.package_name }}.user_errors import UserError

from .conftest import TASK, make_frame, make_params, project_settings
from conftest import reload_outcome

pytestmark = pytest.mark.slow
TARGET = "target"


def opposite(truth: pd.Series) -> list[Any]:
    """The other class, or the target reflected around its centre (make_frame's is 50): the opposite of the truth."""
    return (1 - truth).tolist() if TASK == "classification" else (100.0 - truth).tolist()


@dataclass(frozen=True)
class Webhook:
    url: str
    received: list[dict[str, Any]]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A webhook receiver on 127.0.0.1 that keeps each JSON body it is sent."""
    received: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:  # quiet: the test reads what arrived
            return

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Webhook(f"http://127.0.0.1:{server.server_address[1]}/hook", received)
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class Project:
    params: Params
    settings: Settings
    paths: Paths
    client: TestClient

    def feedback(self, rows: pd.DataFrame, actuals: list[Any], source: str) -> None:
        """Predict the rows through the running service, then report `actuals` on them as `source` would."""
        answer = self.client.post("/predict/batch", json=records(rows.drop(columns=TARGET)))
        assert answer.status_code == 200, answer.text
        engine = create_db_engine(self.settings.database_url)
        for served, actual in zip(answer.json()["predictions"], actuals, strict=True):
            add_feedback(engine, uuid.UUID(served["prediction_id"]), actual, source=source)
        engine.dispose()

    def served_version(self) -> str:
        return str(self.client.get("/model").json()["version"])

    def champion(self) -> str:
        current = tracking.version_by_alias(self.settings.model_name, tracking.CHAMPION)
        assert current is not None
        return str(current.version)


@pytest.fixture
def project(tmp_path_factory: pytest.TempPathFactory, webhook: Webhook) -> Iterator[Project]:
    """A trained champion served by the real app, with the alert webhook pointed at the local receiver."""
    root = tmp_path_factory.mktemp("sources")
    params = make_params()
    params = params.model_copy(update={"promote": params.promote.model_copy(update={"margin": 0.01})})
    settings = project_settings(root, alert_webhook_url=webhook.url)
    paths = Paths(root)
    frame = make_frame(800, seed=3)
    write_frame(frame, paths / RAW)
    write_frame(frame.iloc[:560], paths / TRAIN)
    write_frame(frame.iloc[560:], paths / TEST)
    write_expectations(infer_expectations(frame, TARGET, params.task), paths / EXPECTATIONS)
    train(params, settings, paths)
    evaluate(params, settings, paths)
    promote(params, settings, paths)
    # From 127.0.0.1: without API_KEY, POST /admin/reload answers only clients on the service's own machine.
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        yield Project(params, settings, paths, client)


def fresh(count: int, seed: int) -> pd.DataFrame:
    """Rows from the same world as the training data, never seen by the model."""
    return make_frame(count, seed=seed)


def test_a_flood_of_wrong_labels_from_one_key_is_flagged_capped_and_not_promoted(project: Project) -> None:
    honest, flood = fresh(200, seed=10), fresh(400, seed=11)
    project.feedback(honest, honest[TARGET].tolist(), "app")
    project.feedback(flood, opposite(flood[TARGET]), "mallory")
    # Monitoring shows who contradicts the model: the flood's key, far above the honest one.
    summary = monitor.run(project.settings, project.params)
    assert summary is not None
    sources = {found.source: found for found in summary.sources}
    assert (sources["mallory"].rows, sources["app"].rows) == (400, 200)
    assert sources["mallory"].flagged and not sources["app"].flagged
    # Most of the flood contradicts the model (for regression, a label reflected around the centre stays close to the
    # truth near the centre, so fewer than for classification do); honest labels rarely do.
    assert sources["mallory"].contradiction_share > 0.5 > 0.2 > sources["app"].contradiction_share
    assert "mallory 400 rows" in render_summary(summary) and "(FLAGGED)" in render_summary(summary)
    page = project.client.get("/monitoring")
    assert page.status_code == 200
    assert '<section id="feedback-sources"' in page.text and "flagged" in page.text
    result = retrain.retrain(project.params, project.settings, project.paths)
    assert isinstance(result, retrain.Retrained)
    trained = {use.source: (use.rows, use.used) for use in result.trained_sources}
    rows, used = trained["mallory"]
    assert used == trained["app"][1] < rows  # cut to the honest source's size: half of what is trained on
    # The candidate's run keeps {source: [rows, used]}, and its model card lists them.
    mlflow = MlflowClient()
    run = mlflow.get_run(str(mlflow.get_model_version(project.settings.model_name, result.version).run_id))
    assert json.loads(run.data.tags["retrain.feedback_sources"]) == {name: list(pair) for name, pair in trained.items()}
    card = card_store.fetch_card(project.settings, run.info.run_id)
    assert card is not None and "**Feedback trained on**, per source (at most 0.5 of it from one" in card
    assert all(f"{use.source} {use.used} of {use.rows} rows" in card for use in result.trained_sources)
    # The newest rows, where the recent slice is drawn, are the flood's: one source alone cannot waive the guard.
    assert [use.source for use in result.judged_sources] == ["mallory"]
    assert result.decision.alias == "challenger"
    assert not result.decision.awaiting_approval
    assert "promote.min_sources is 2" in result.decision.reason
    assert project.champion() == "1" == project.served_version()
    assert approve.waiting_version(project.settings) is None


def test_the_same_flood_split_over_two_keys_is_not_promoted_while_honest_users_are_the_majority(
    project: Project,
) -> None:
    for seed, source in [(20, "app"), (21, "mallory-1"), (22, "web"), (23, "mallory-2")]:
        rows = fresh(150, seed=seed)
        truth = rows[TARGET].tolist() if source in ("app", "web") else opposite(rows[TARGET])
        project.feedback(rows, truth, source)
    result = retrain.retrain(project.params, project.settings, project.paths)
    assert isinstance(result, retrain.Retrained)
    assert result.decision.alias == "challenger"
    assert project.champion() == "1" == project.served_version()


def test_concept_drift_reported_by_two_sources_waits_for_a_person_then_is_served(
    project: Project, webhook: Webhook
) -> None:
    for seed, source in [(30, "app"), (31, "web"), (32, "app"), (33, "web")]:
        rows = fresh(100, seed=seed)
        project.feedback(rows, opposite(rows[TARGET]), source)  # the world changed: both sources see it
    result = retrain.retrain(project.params, project.settings, project.paths)
    assert isinstance(result, retrain.Retrained)
    decision = result.decision
    assert {use.source for use in result.judged_sources} == {"app", "web"}
    assert (decision.alias, decision.awaiting_approval) == ("challenger", True)
    assert "the test split no longer describes today" in decision.reason
    assert f"promote --approve {decision.candidate}" in decision.reason
    # Without approval nothing changes: nothing new is served, the registry says why, and the webhook was told.
    assert [move.to_version for move in history.champion_history(project.settings)] == ["1"]
    assert project.champion() == "1" == project.served_version()
    waiting = approve.waiting_version(project.settings)
    assert waiting is not None and waiting[0] == decision.candidate
    evidence = json.loads(waiting[1][approve.EVIDENCE])
    assert set(evidence["recent_sources"]) == {"app", "web"}
    assert evidence["reason"] == decision.reason
    [message] = webhook.received
    assert message["event"] == "approval_needed"
    assert message["model"] == {"name": project.settings.model_name, "version": decision.candidate, "champion": "1"}
    assert set(message["evidence"]["recent_sources"]) == {"app", "web"}
    assert message["evidence"]["scores"] == pytest.approx(decision.record(project.params.promote.metric)[1])

    # A later promotion run on its own does not serve the waiting version either, nor judge it again on the test
    # split alone: the recent-feedback evidence on its run stays what retrain measured.
    again = promote(project.params, project.settings, project.paths)
    assert (again.alias, again.awaiting_approval) == ("challenger", True)
    mlflow = MlflowClient()
    run = mlflow.get_run(str(mlflow.get_model_version(project.settings.model_name, decision.candidate).run_id))
    assert run.data.tags["gate.recent_rows"] == str(decision.recent_rows)
    assert project.champion() == "1" == project.served_version()

    with pytest.raises(UserError, match="version 1 is not the challenger waiting for approval"):
        approve.approve(project.settings, "1", "looks fine")
    move = approve.approve(project.settings, decision.candidate, "the churn definition changed on Monday")
    assert (move.from_version, move.to_version, move.actor) == ("1", decision.candidate, tracking.current_actor())
    assert move.reason == "approved: the churn definition changed on Monday"
    assert history.champion_history(project.settings)[0] == move
    assert tracking.version_by_alias(project.settings.model_name, tracking.CHALLENGER) is None
    # The running service serves it once told, as after any promotion (jobs.service_notice does this for `make`).
    assert reload_outcome(project.client).status_code == 200
    assert project.served_version() == decision.candidate
    # Its model card lists the feedback sources it was trained on, with the rows of each.
    card = project.client.get("/model/card").text
    assert "**Feedback trained on**, per source (at most 0.5 of it from one" in card
    assert all(f"{use.source} {use.used} of {use.rows} rows" in card for use in result.trained_sources)
    # Monitoring judges the new champion against the recent feedback it was approved on, not yesterday's split.
    champion = load_champion(project.settings, TARGET)
    metric, guard = project.params.promote.metric, project.params.promote.guard
    assert champion.recent_metrics[metric] == pytest.approx(decision.candidate_recent)
    baseline = quality_baseline(
        metric, champion.test_metrics[metric], champion.recent_metrics[metric], champion.recent_rows, guard
    )
    assert baseline is not None
    assert (baseline.source, baseline.rows) == ("recent feedback", decision.recent_rows)
