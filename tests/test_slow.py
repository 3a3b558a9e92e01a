"""Slow tier: install baked projects with their own `make install` and run their own checks and lifecycle.

The checks and the lifecycle of each task run in groups of their own (tests/conftest.py orders them), each on a
project of its own (tests/projects.py), so that the two workers of `make test-slow` share the work.
"""

import csv
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import services
from tests.options import TEMPLATE
from tests.projects import PROJECT_TESTS_TIMEOUT, Projects, run

pytestmark = pytest.mark.slow

TASKS = ("classification", "regression")


def in_groups(stage: str) -> list[object]:
    """Fixture params, one per task, each in the xdist group `<stage>-<task>`."""
    return [
        pytest.param((f"{stage}-{task}", task), id=f"task:{task}", marks=pytest.mark.xdist_group(f"{stage}-{task}"))
        for task in TASKS
    ]


@pytest.fixture(scope="module", params=in_groups("checks"))
def installed_project(request: pytest.FixtureRequest, projects: Projects) -> Path:
    group, task = request.param
    return projects.installed(group, task=task)


def test_installed_project_passes_its_own_lint_and_types(installed_project):
    run(installed_project, "make", "lint")
    run(installed_project, "make", "typecheck")


def test_installed_project_passes_its_own_tests(installed_project):
    tests = run(installed_project, "make", "test", timeout=PROJECT_TESTS_TIMEOUT)
    assert " passed" in tests.stdout


@pytest.fixture(scope="module", params=in_groups("lifecycle"))
def pipelined_project(request: pytest.FixtureRequest, projects: Projects) -> Path:
    """The installed project after `make pipeline`: data ingested, model trained, registered and promoted; the
    classification one is also tests/test_experiments.py's (same group)."""
    group, task = request.param
    return projects.pipelined(group, task=task)


def test_cli_runs_without_make(pipelined_project):
    package = pipelined_project.name
    result = run(pipelined_project, f".venv/bin/{package}", "--help")
    assert "promote" in result.stdout


def champion_version(project: Path) -> str:
    script = (
        "from mlflow import MlflowClient;"
        f"from {project.name}.settings import get_settings;"
        "s = get_settings();"
        "print(MlflowClient(s.mlflow_tracking_uri).get_model_version_by_alias(s.model_name, 'champion').version)"
    )
    return run(project, ".venv/bin/python", "-c", script).stdout.strip()


def test_pipeline_registers_a_champion_and_reproduces_its_metrics(pipelined_project):
    project = pipelined_project
    metrics = (project / "reports" / "metrics.json").read_bytes()
    predictions = (project / "reports" / "predictions.csv").read_bytes()
    assert champion_version(project) == "1"
    assert (project / "dvc.lock").is_file()

    # As a user would: the venv activated, so that the stages' `python -m ...` finds the project's interpreter.
    run(project, "bash", "-c", "source .venv/bin/activate && dvc repro --force")
    assert (project / "reports" / "metrics.json").read_bytes() == metrics
    assert (project / "reports" / "predictions.csv").read_bytes() == predictions
    shown = run(project, ".venv/bin/dvc", "metrics", "show").stdout
    assert "reports/metrics.json" in shown


def call(url: str, body: object | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.fixture
def served_project(pipelined_project: Path, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """`<package> serve` on a free loopback port, stopped by its PID after the test."""
    port, log = services.free_port(), tmp_path / "service.log"
    command = [f".venv/bin/{pipelined_project.name}", "serve", "--port", str(port)]
    server = services.start(command, log, cwd=pipelined_project)
    base = f"http://127.0.0.1:{port}"
    try:
        services.wait_until(lambda: services.http_ok(f"{base}/ready"), "the service", server, log, 90)
        yield pipelined_project, base
    finally:
        services.stop(server)


def test_service_predicts_takes_feedback_and_traces_lineage(served_project):
    project, base = served_project
    with (project / "data" / "processed" / "test.csv").open(newline="") as handle:
        row = next(csv.DictReader(handle))
    target = row.pop("target")
    record = {name: float(value) for name, value in row.items()}

    status, predicted = call(f"{base}/predict", record)
    assert status == 200, predicted
    assert predicted["model_version"] == "1"

    actual = int(float(target)) if predicted.get("probabilities") else float(target)
    status, feedback = call(f"{base}/feedback", {"prediction_id": predicted["prediction_id"], "actual": actual})
    assert status == 201, feedback

    status, logged = call(f"{base}/predictions/{predicted['prediction_id']}")
    assert status == 200, logged
    assert json.dumps(logged["lineage"])  # lineage is present and serialisable
    assert "git_commit" in json.dumps(logged)

    status, error = call(f"{base}/predict", {**record, "not_a_feature": 1})
    assert 400 <= status < 500, error


def test_serving_benchmark_runs_both_modes_beside_the_bare_app_and_mlflow(pipelined_project):
    """The figures depend on the machine and are not asserted (docs/performance.md: targets are read from the
    benchmark); what is checked is that every server answered every request and both modes' ratios and memory are
    printed side by side."""
    command = ["benchmarks/bench_serving.py", "--duration", "1", "--connections", "4", "--batch", "10"]
    output = run(pipelined_project, ".venv/bin/python", *command, timeout=600).stdout
    rows = [line.split() for line in output.splitlines() if line.startswith(("single ", "batch10 "))]
    measured = [row for row in rows if len(row) == 6]
    assert {(row[0], row[1]) for row in measured} == {
        (scenario, server) for scenario in ("single", "batch10") for server in ("fast", "plain", "bare", "mlflow")
    }
    assert all(float(row[2]) > 0 and float(row[5]) == 0 for row in measured), output
    for mode in ("fast", "plain"):
        assert any(
            line.startswith("single     service/bare = ") and "service/mlflow = " in line and f"({mode})" in line
            for line in output.splitlines()
        ), output
        assert f"{mode} worker memory: " in output


@pytest.mark.xdist_group("demo")
def test_make_demo_closes_the_loop(tmp_path):
    """`make demo` tells the loop in three acts on one service, and its summary holds each act's verdicts."""
    build = tmp_path / "build"
    result = run(TEMPLATE, "make", "demo", f"BUILD={build}", timeout=1200)
    assert "Demo finished" in result.stdout
    acts = json.loads((build / "demo-summary.json").read_text())["acts"]
    calm, covariate, concept = acts["calm"], acts["covariate"], acts["concept"]
    # Act 1: calm traffic raises nothing.
    assert calm["verdicts"] == {"drift": False, "quality_breach": False}
    # Act 2: the inputs moved, the truth did not; the gate keeps the champion serving.
    assert covariate["verdicts"] == {
        "drift": True,
        "quality_breach": False,
        "promoted": False,
        "served_unchanged": True,
    }
    assert covariate["gate"]["decision"] == "challenger"
    # Act 3: only feedback reveals the new truth, reported by two sources, neither flagged; the retrained model wins on
    # it only by the waived guard, so it waits as @challenger and nothing new is served until a person approves; then
    # the service swaps without a restart, and the new champion's own traffic is back within the quality threshold.
    verdicts, gate, after = concept["verdicts"], concept["gate"], concept["after_swap"]
    approval = concept["approval"]
    assert verdicts["quality_breach"] is True
    assert verdicts["sources"] == ["anonymous", "default"] and verdicts["flagged_sources"] == []
    assert gate["decision"] == "challenger" and gate["awaiting_approval"] is True and gate["rule"] == "recent"
    assert "the test split no longer describes today" in gate["reason"]
    assert f"promote --approve {gate['candidate']}" in gate["reason"]
    assert verdicts["waited_for_approval"] is True and verdicts["served_unchanged_while_waiting"] is True
    metric = concept["monitor"]["metric"]
    assert gate["scores"][f"candidate_recent_{metric}"] > gate["scores"][f"champion_recent_{metric}"]
    assert verdicts["promoted_after_approval"] is True and approval["served_version"] == gate["candidate"]
    assert "approved by" in approval["approved"] and "demo: both sources report" in approval["approved"]
    assert verdicts["reloaded_without_restart"] is True
    assert "reloaded without a restart" in approval["service_notice"]
    assert after["model_version"] == gate["candidate"]
    assert verdicts["after_swap_quality_breach"] is False
    assert after["quality"] > concept["monitor"]["quality"]
    # ...and "within" means within the score that won the promotion, not the old world's test split.
    assert verdicts["after_swap_baseline"] == "recent feedback"
    assert after["baseline"] == gate["scores"][f"candidate_recent_{metric}"]
    assert after["quality"] >= after["quality_threshold"] > after["champion_test"]
    # The calm acts are still judged against the test split.
    assert calm["monitor"]["baseline_source"] == covariate["monitor"]["baseline_source"] == "test split"
    reports = build / "demo_product" / "reports" / "monitoring" / "latest"
    assert (reports / "report.html").is_file()
    assert (reports / "summary.json").is_file()
