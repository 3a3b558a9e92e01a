"""GET /monitoring/history, the trend on GET /monitoring and GET /model/card, on the real app in both serving modes."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import mlflow
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from {{ cookiecutter.package_name }}.core.model_card import MONITORING_END, MONITORING_START
from {{ cookiecutter.package_name }}.core.monitoring import HistoryEntry
from {{ cookiecutter.package_name }}.io.monitoring_history import append_history
from {{ cookiecutter.package_name }}.settings import Settings

from .conftest import EXPERIMENT, TASK, make_settings, serving_app, train_and_register

CARDED_MODEL = "carded_model"
HOSTILE = "<script>alert('card')</script>"


def entry(hours: int, drift_share: float, quality: float | None) -> HistoryEntry:
    return HistoryEntry(
        created_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=hours),
        model_version="1",
        window="last 100 predictions",
        drift_share=drift_share,
        drift_detected=drift_share >= 0.5,
        quality_metric="roc_auc",
        quality_value=quality,
        n_current=100,
        n_labeled=40,
        breaches=["data_drift"] if drift_share >= 0.5 else [],
        out_of_range_share=0.0,
        run_dir=f"2026010{hours}T000000Z",
    )


def write_card(run_id: str, status: str) -> str:
    """A card in the pipeline's layout, naming its run as the logged copy does, with markup that came from data."""
    return "\n".join(
        [
            "---",
            "license: mit",
            "---",
            "",
            f"# Model card: {CARDED_MODEL}",
            "",
            "## Training data",
            "",
            "| feature | kind |",
            "| --- | --- |",
            f"| `colour` | {HOSTILE} |",
            "",
            "## Monitoring",
            "",
            MONITORING_START,
            status,
            MONITORING_END,
            "",
            "## Lineage",
            "",
            f"- **Registered version**: 1, MLflow run `{run_id}`",
            "",
        ]
    )


@pytest.fixture(scope="module")
def carded(tracking_uri: str) -> tuple[str, str]:
    """A champion whose run holds a MODEL_CARD.md, as the pipeline logs it; returns its run id and card."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    mlflow.set_experiment(EXPERIMENT)
    train_and_register(TASK, CARDED_MODEL)
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    run_id = client.get_model_version_by_alias(CARDED_MODEL, "champion").run_id
    assert run_id is not None
    card = write_card(run_id, "No monitoring run yet.")
    client.log_text(run_id, card, "MODEL_CARD.md")
    return run_id, card


@pytest.fixture
def monitoring_settings(tracking_uri: str, tmp_path: Path) -> Settings:
    return make_settings(tracking_uri, tmp_path / "predictions.db", monitoring_dir=tmp_path / "monitoring")


@pytest.fixture
def pages(monitoring_settings: Settings) -> Iterator[TestClient]:
    with TestClient(serving_app(monitoring_settings)) as client:
        yield client


@pytest.fixture
def carded_settings(tracking_uri: str, tmp_path: Path, carded: tuple[str, str]) -> Settings:
    return make_settings(
        tracking_uri,
        tmp_path / "predictions.db",
        model_name=CARDED_MODEL,
        model_uri=f"models:/{CARDED_MODEL}@champion",
        monitoring_dir=tmp_path / "monitoring",
    )


def test_history_is_an_empty_list_before_the_first_run(pages: TestClient) -> None:
    response = pages.get("/monitoring/history")
    assert (response.status_code, response.json()) == (200, [])


def test_history_lists_runs_oldest_first_and_the_last_n(pages: TestClient, monitoring_settings: Settings) -> None:
    for hours, share, quality in [(1, 0.1, 0.9), (2, 0.2, None), (3, 0.7, 0.8)]:
        append_history(monitoring_settings.monitoring_dir, entry(hours, share, quality))
    runs = pages.get("/monitoring/history").json()
    assert [(run["drift_share"], run["quality_value"]) for run in runs] == [(0.1, 0.9), (0.2, None), (0.7, 0.8)]
    assert runs[2]["breaches"] == ["data_drift"] and runs[0]["created_at"].startswith("2026-01-01T01:00:00")
    assert [run["drift_share"] for run in pages.get("/monitoring/history", params={"last": 2}).json()] == [0.2, 0.7]


@pytest.mark.parametrize("last", ["0", "10001", "many"])
def test_history_refuses_an_unbounded_or_bad_last(pages: TestClient, last: str) -> None:
    response = pages.get("/monitoring/history", params={"last": last})
    assert response.status_code == 422
    assert "last" in response.text


def test_history_is_documented_with_its_response_model(pages: TestClient) -> None:
    operation = pages.get("/openapi.json").json()["paths"]["/monitoring/history"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["items"]["$ref"].endswith("/HistoryEntry")


def test_monitoring_page_shows_the_trend_above_the_report(pages: TestClient, monitoring_settings: Settings) -> None:
    root = monitoring_settings.monitoring_dir
    (root / "latest").mkdir(parents=True)
    (root / "latest" / "report.html").write_text(
        '<html><head><title>Drift: m</title></head><body><div id="root_1"></div></body></html>', encoding="utf-8"
    )
    for hours, share, quality in [(1, 0.1, 0.9), (2, 0.2, None), (3, 0.7, 0.8)]:
        append_history(root, entry(hours, share, quality))
    response = pages.get("/monitoring")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert page.index('<section id="monitoring-trend"') < page.index('<div id="root_1">')
    assert page.count('data-series="drift" cx=') == 3
    assert page.count('data-series="quality" cx=') == 2  # the run without feedback is a gap, not a zero


def test_monitoring_page_is_404_before_the_first_report(pages: TestClient) -> None:
    response = pages.get("/monitoring")
    assert response.status_code == 404
    assert "no monitoring report yet" in response.json()["detail"]


def test_model_card_is_404_with_a_reason_when_the_served_version_has_none(pages: TestClient) -> None:
    response = pages.get("/model/card")
    assert response.status_code == 404
    assert "has no model card" in response.json()["detail"]


def test_model_card_is_markdown_by_default(carded_settings: Settings, carded: tuple[str, str]) -> None:
    with TestClient(serving_app(carded_settings)) as client:
        response = client.get("/model/card")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert response.text == carded[1]


@pytest.mark.parametrize("ask", [{"headers": {"Accept": "text/html,*/*;q=0.8"}}, {"params": {"format": "html"}}])
def test_model_card_is_an_escaped_self_contained_page_for_a_browser(
    carded_settings: Settings, ask: dict[str, Any]
) -> None:
    with TestClient(serving_app(carded_settings)) as client:
        response = client.get("/model/card", **ask)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert f"<title>Model card: {CARDED_MODEL} v1</title>" in page
    assert "<h2>Training data</h2>" in page and "<table>" in page
    assert HOSTILE not in page and "&lt;script&gt;" in page
    assert MONITORING_START.replace("<", "&lt;") not in page  # the markers are not shown as text
    assert re.search(r"""(src|href)=["']?(https?:)?//""", page) is None  # nothing fetched from elsewhere


def test_model_card_shows_monitors_refreshed_copy_only_for_the_served_version(
    carded_settings: Settings, carded: tuple[str, str]
) -> None:
    run_id, logged = carded
    latest = carded_settings.monitoring_dir / "latest"
    latest.mkdir(parents=True)
    (latest / "MODEL_CARD.md").write_text(write_card("another-run", "Another version's status."), encoding="utf-8")
    with TestClient(serving_app(carded_settings)) as client:
        assert client.get("/model/card").text == logged
        refreshed = write_card(run_id, "Latest run: **no threshold crossed**.")
        (latest / "MODEL_CARD.md").write_text(refreshed, encoding="utf-8")
        assert client.get("/model/card").text == refreshed  # read per request: no restart after `monitor`


@pytest.mark.slow
def test_fast_modes_child_loader_brings_the_card_with_the_model(
    carded_settings: Settings, carded: tuple[str, str], serving_mode: str
) -> None:
    """Fast mode fetches the model in a child process (so MLflow stays out of the service): the card comes with it."""
    if serving_mode != "fast":
        pytest.skip("the child loader is fast mode's; plain mode loads in-process, as the other card tests do")
    from {{ cookiecutter.package_name }}.service.fast.child_loader import load_in_child_process

    assert load_in_child_process(carded_settings).card == carded[1]


def test_model_card_refuses_an_unknown_format(carded_settings: Settings) -> None:
    with TestClient(serving_app(carded_settings)) as client:
        response = client.get("/model/card", params={"format": "pdf"})
    assert response.status_code == 422
    assert "format" in response.text


def test_the_new_operations_answer_as_their_openapi_documents(
    carded_settings: Settings, carded: tuple[str, str]
) -> None:
    """schemathesis, a client we did not write, checks status codes, content types and the JSON against the schema."""
    import schemathesis
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hypothesis_settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    root = carded_settings.monitoring_dir
    for hours, share, quality in [(1, 0.1, 0.9), (2, 0.2, None), (3, 0.7, 0.8)]:
        append_history(root, entry(hours, share, quality))
    schema = schemathesis.openapi.from_asgi("/openapi.json", serving_app(carded_settings))
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    for label in ("GET /monitoring/history", "GET /model/card"):
        operation = schema[label.split()[1]][label.split()[0]]

        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def conforms(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(checks=checks)

        conforms()
