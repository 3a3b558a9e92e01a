"""The child-process loader gives the in-process model, says why when the registry has none, and keeps MLflow out."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.service.fast.child_loader import ModelLoadError, load_in_child_process
from {{ cookiecutter.package_name }}.service.served_model import Output, load_served_model

from ..conftest import MODEL_NAMES, TASK, make_settings, record
from ..test_process import PACKAGE, service_env


@pytest.mark.slow
def test_model_fetched_by_a_child_process_predicts_as_the_one_loaded_here(tracking_uri: str, tmp_path: Path) -> None:
    settings = make_settings(tracking_uri, tmp_path / "l.db")
    child, here = load_in_child_process(settings), load_served_model(settings)
    for field in ("name", "version", "alias", "run_id", "task", "features", "classes", "signature", "metrics"):
        assert getattr(child, field) == getattr(here, field), field
    assert child.lineage == here.lineage
    records = [record(), record(colour=None), record(**{"mean radius": None})]
    child_outputs = [output for output in child.predict(records) if isinstance(output, Output)]
    here_outputs = [output for output in here.predict(records) if isinstance(output, Output)]
    assert len(child_outputs) == len(here_outputs) == len(records)
    assert [o.prediction for o in child_outputs] == pytest.approx([o.prediction for o in here_outputs])
    if TASK == "classification":
        assert np.allclose(
            [list(o.probabilities.values()) for o in child_outputs if o.probabilities],
            [list(o.probabilities.values()) for o in here_outputs if o.probabilities],
        )


@pytest.mark.slow
def test_unknown_alias_fails_with_the_registry_reason(tracking_uri: str, tmp_path: Path) -> None:
    uri = f"models:/{MODEL_NAMES[TASK]}@nobody"
    with pytest.raises(ModelLoadError, match="nobody"):
        load_in_child_process(make_settings(tracking_uri, tmp_path / "l.db", model_uri=uri))


@pytest.mark.slow
def test_fast_api_process_imports_neither_mlflow_nor_evidently_nor_dvc(tracking_uri: str, tmp_path: Path) -> None:
    script = f"""
import sys
from fastapi.testclient import TestClient
from {PACKAGE}.service.app import create_app
with TestClient(create_app()) as client:
    assert client.get("/model").json()["name"] == {MODEL_NAMES[TASK]!r}
    assert client.post("/predict", json={record()!r}).status_code == 200
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("mlflow", "evidently", "dvc"))
assert not heavy, heavy
"""
    env = service_env(tracking_uri, tmp_path / "p.db")
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
