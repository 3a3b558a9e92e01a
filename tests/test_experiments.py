"""Slow tier: lineage names a real commit from the first run, and DVC's experiments and queue run the baked pipeline.

The project is test_slow.py's classification lifecycle project (same group, one `make pipeline` for both); these
tests are collected first in that group, so the champion checked here is the one that `make pipeline` made.
"""

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.projects import Projects, run

GROUP = "lifecycle-classification"
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(GROUP)]

C = "train.hyperparameters.C"


def dvc(project: Path, *args: str, timeout: float = 600) -> str:
    """Run dvc as a user would, with the venv activated, and return what it printed."""
    return run(project, "bash", "-c", " ".join(["source .venv/bin/activate && dvc", *args]), timeout=timeout).stdout


def workspace_state(project: Path) -> dict[str, str]:
    """md5 of params.yaml, dvc.lock and every file under models/, and the output of `git status`."""
    files = [project / "params.yaml", project / "dvc.lock", *sorted((project / "models").rglob("*"))]
    state = {str(p.relative_to(project)): hashlib.md5(p.read_bytes()).hexdigest() for p in files if p.is_file()}
    return state | {"git status": run(project, "git", "status", "--porcelain").stdout}


def experiments(project: Path) -> dict[str, dict[str, Any]]:
    """Experiment name -> its `data` (params and metrics) in `dvc exp show --json`."""
    found: dict[str, dict[str, Any]] = {}
    for baseline in json.loads(dvc(project, "exp", "show", "--json")):
        for experiment in baseline.get("experiments") or []:
            for rev in experiment["revs"]:
                found[rev["name"]] = rev["data"]
    return found


def c_of(data: dict[str, Any]) -> float:
    return float(data["params"]["params.yaml"]["data"]["train"]["hyperparameters"]["C"])


def mlflow_runs(project: Path) -> dict[str, dict[str, str]]:
    """Run tags and params of the project's MLflow experiment, as the project's own settings find its store."""
    script = (
        "import json; from mlflow import MlflowClient;"
        f"from {project.name}.settings import get_settings;"
        "s = get_settings(); c = MlflowClient(s.mlflow_tracking_uri);"
        "e = c.get_experiment_by_name(s.mlflow_experiment);"
        "champion = c.get_model_version_by_alias(s.model_name, 'champion').run_id;"
        "print(json.dumps({r.info.run_id: r.data.tags | r.data.params | {'champion': str(r.info.run_id == champion)}"
        " for r in c.search_runs([e.experiment_id])}))"
    )
    runs: dict[str, dict[str, str]] = json.loads(run(project, ".venv/bin/python", "-c", script).stdout)
    return runs


@pytest.fixture(scope="module")
def pipelined_project(projects: Projects) -> Iterator[Path]:
    """A classification bake, installed and through `make pipeline`: nothing committed by hand after the bake."""
    project = projects.pipelined(GROUP, task="classification")
    yield project
    dvc(project, "queue", "stop")


def test_the_first_champion_names_the_commit_the_bake_made(pipelined_project):
    project = pipelined_project
    (champion,) = [tags for tags in mlflow_runs(project).values() if tags["champion"] == "True"]
    run(project, "git", "cat-file", "-e", f"{champion['lineage.git_commit']}^{{commit}}")
    assert champion["lineage.git_commit"] == run(project, "git", "rev-parse", "HEAD").stdout.strip()
    assert champion["lineage.git_dirty"] == "false"


def test_experiments_and_the_queue_run_each_with_its_own_params(pipelined_project):
    project = pipelined_project
    dvc(project, "exp", "run", "-S", f"{C}=0.5")
    assert 0.5 in [c_of(data) for data in experiments(project).values()]

    before = workspace_state(project)
    for value in ("0.2", "0.05"):
        dvc(project, "exp", "run", "--queue", "-S", f"{C}={value}")
    dvc(project, "queue", "start")
    deadline = time.monotonic() + 420
    while "Queued" in (status := dvc(project, "queue", "status")) or "Running" in status:
        assert time.monotonic() < deadline, f"the queue did not finish:\n{status}"
        time.sleep(5)
    assert status.count("Success") == 2, status

    queued = {name: data for name, data in experiments(project).items() if c_of(data) in (0.2, 0.05)}
    assert sorted(c_of(data) for data in queued.values()) == [0.05, 0.2]
    for data in queued.values():
        assert data["metrics"]["reports/metrics.json"]["data"]["roc_auc"] > 0.5

    # Each queued experiment trained in its own copy but logged to this project's store, under its own params.
    runs = {tags.get("lineage.dvc_experiment"): tags for tags in mlflow_runs(project).values()}
    for name, data in queued.items():
        assert float(runs[name][C]) == c_of(data)
    assert workspace_state(project) == before
