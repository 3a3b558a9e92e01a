"""Every version gets a model card in the Hugging Face layout, filled from the pipeline's data, refreshed by monitor."""

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient

from {{ cookiecutter.package_name }}.core.model_card import (
    MONITORING_END,
    MONITORING_START,
    CardFacts,
    render_card,
    slice_metrics,
    with_monitoring,
)
from {{ cookiecutter.package_name }}.jobs.context import METRICS, RUN, TEST, Paths, load_expectations, read_json
from {{ cookiecutter.package_name }}.jobs.evaluate import CARD, card_facts, evaluate
from {{ cookiecutter.package_name }}.params import Params
from {{ cookiecutter.package_name }}.settings import Settings

from .conftest import TASK, Loop
from .test_history import loop_settings

SECTIONS = [
    "# Model card:",
    "## Model details",
    "## Intended use",
    "## Training data",
    "### Data expectations",
    "## Evaluation",
    "### Per-slice metrics",
    "## Limitations",
    "## Monitoring",
    "## Lineage",
]


def front_matter(card: str) -> dict[str, Any]:
    _, header, _ = card.split("---\n", 2)
    loaded: dict[str, Any] = yaml.safe_load(header)
    return loaded


def run_card(settings: Settings, run_id: str) -> str:
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    text: str = mlflow.artifacts.load_text(f"runs:/{run_id}/MODEL_CARD.md")
    return text


def facts_of(trained_project: tuple[Settings, Params, Paths]) -> CardFacts:
    import joblib

    from {{ cookiecutter.package_name }}.io.datasets import read_frame
    from {{ cookiecutter.package_name }}.jobs.context import MODEL

    settings, params, paths = trained_project
    expectations = load_expectations(paths)
    test = read_frame(paths / TEST, expectations)
    metrics = read_json(paths / METRICS)
    return card_facts(params, settings, paths, expectations, metrics, test, joblib.load(paths / MODEL))


def test_evaluate_writes_a_card_with_every_section_from_real_data(
    trained_project: tuple[Settings, Params, Paths],
) -> None:
    _, params, paths = trained_project
    card = (paths / CARD).read_text(encoding="utf-8")
    positions = [card.find(section) for section in SECTIONS]
    assert -1 not in positions and positions == sorted(positions), positions
    meta = front_matter(card)
    assert meta["license"] in {"mit", "apache-2.0", "bsd-3-clause", "other"}
    [index] = meta["model-index"]
    [result] = index["results"]
    metrics = json.loads((paths / METRICS).read_text(encoding="utf-8"))
    assert {m["type"]: m["value"] for m in result["metrics"]} == metrics
    assert f"`{params.data.source}`" in card
    test_rows = len(pd.read_csv(paths / TEST))
    assert f"test {test_rows}" in card
    assert "`colour`" in card  # the expectations table lists every feature


def test_card_has_per_slice_metrics_for_each_category(trained_project: tuple[Settings, Params, Paths]) -> None:
    facts = facts_of(trained_project)
    slices = {(s.feature, s.category): s for s in facts.slices}
    assert set(slices) == {("colour", "red"), ("colour", "green"), ("colour", "blue")}
    assert sum(s.rows for s in slices.values()) == facts.rows["test"]
    metric = "roc_auc" if TASK == "classification" else "rmse"
    assert all(metric in s.metrics or "accuracy" in s.metrics for s in slices.values() if s.rows >= 5)
    card = render_card(facts)
    assert "| `colour` | red |" in card


def test_card_without_a_categorical_feature_says_there_are_no_slices(
    trained_project: tuple[Settings, Params, Paths],
) -> None:
    facts = facts_of(trained_project)
    numeric = {name: kind for name, kind in facts.expectations.kinds.items() if kind == "numeric"}
    assert slice_metrics(facts.task, None, pd.DataFrame(), pd.Series(dtype=float), numeric) == []
    card = render_card(replace(facts, slices=[]))
    assert "no categorical feature, so there are no per-slice metrics" in card


def test_pipeline_card_is_byte_identical_when_evaluate_runs_again(
    trained_project: tuple[Settings, Params, Paths],
) -> None:
    settings, params, paths = trained_project
    before = (paths / CARD).read_bytes()
    evaluate(params, settings, paths)
    assert (paths / CARD).read_bytes() == before
    assert b"**Registered version**" not in before


def test_the_versions_run_holds_the_card_with_its_version_and_commit(
    trained_project: tuple[Settings, Params, Paths],
) -> None:
    settings, _, paths = trained_project
    run = read_json(paths / RUN)
    card = run_card(settings, run["run_id"])
    assert f"**Registered version**: {run['version']}, MLflow run `{run['run_id']}`" in card
    assert "**Git commit**" in card
    artifacts = [
        item.path
        for item in MlflowClient(
            settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri
        ).list_artifacts(run["run_id"])
    ]
    assert "MODEL_CARD.md" in artifacts


def test_monitoring_section_is_replaced_and_nothing_else() -> None:
    card = f"# Card\n\n## Monitoring\n\n{MONITORING_START}\nold\n{MONITORING_END}\n\n## Lineage\n"
    updated = with_monitoring(with_monitoring(card, "first"), "second")
    assert updated == card.replace("old", "second")
    with pytest.raises(ValueError, match="no monitoring section"):
        with_monitoring("# Card\n", "status")


@pytest.mark.slow
def test_monitor_refreshes_the_served_versions_card_with_its_latest_status(loop: Loop, tmp_path: Path) -> None:
    from {{ cookiecutter.package_name }}.jobs import monitor

    settings = loop_settings(loop, monitoring_dir=tmp_path)
    summary = monitor.run(settings, loop.params, last=180)
    assert summary is not None
    latest = (tmp_path / "latest" / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "No monitoring run yet" not in latest
    assert f"{summary.drift_share:.0%} of {summary.n_columns} features drifted" in latest
    assert "**Registered version**" in latest
    version = MlflowClient(settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri).get_model_version(
        settings.model_name, summary.model_version
    )
    assert version.run_id is not None
    assert run_card(settings, version.run_id) == latest


@pytest.mark.slow
def test_the_champions_card_opens_at_model_card_with_every_section_filled(loop: Loop) -> None:
    from fastapi.testclient import TestClient

    from {{ cookiecutter.package_name }}.service.app import create_app
    from {{ cookiecutter.package_name }}.service.served_model import load_served_model

    settings = loop_settings(loop)
    with TestClient(create_app(settings, model_loader=load_served_model)) as client:
        markdown = client.get("/model/card")
        page = client.get("/model/card", params={"format": "html"})
    assert markdown.status_code == 200, markdown.text
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    card = markdown.text
    positions = [card.find(section) for section in SECTIONS]
    assert -1 not in positions and positions == sorted(positions), positions
    assert f"**Registered version**: {loop.normal.model_version}, MLflow run `" in card
    # The loop monitored this version, so its card carries a status, from whichever copy was newest.
    assert "No monitoring run yet" not in card and "features drifted" in card
    assert "| `colour` | red |" in card
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h3>Per-slice metrics</h3>" in page.text and "<td><code>colour</code></td>" in page.text
