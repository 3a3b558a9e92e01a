"""Each endpoint of the real app, on a model trained and registered in a fixture."""

import json
import logging
import uuid

import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.service.logs import configure_logging

from .conftest import MODEL_NAMES, TASK, record


def test_health_says_alive(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_ready_when_model_loaded_and_database_reachable(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json()["model"] == MODEL_NAMES[TASK]


def test_predict_returns_id_prediction_and_version(client: TestClient) -> None:
    response = client.post("/predict", json=record())
    assert response.status_code == 200
    body = response.json()
    uuid.UUID(body["prediction_id"])
    assert body["model_version"] == "1"
    if TASK == "classification":
        assert body["prediction"] in (0, 1)
        assert set(body["probabilities"]) == {"0", "1"}
        assert abs(sum(body["probabilities"].values()) - 1.0) < 1e-9
    else:
        assert isinstance(body["prediction"], float)


def test_predict_accepts_nulls_and_unknown_categories(client: TestClient) -> None:
    for features in (record(**{"mean radius": None, "colour": None}), record(colour="ultraviolet")):
        assert client.post("/predict", json=features).status_code == 200


def test_batch_answers_each_record_in_order(client: TestClient) -> None:
    records = [record(**{"mean radius": float(r)}) for r in range(5, 25, 2)]
    response = client.post("/predict/batch", json=records)
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    assert len(predictions) == len(records)
    assert len({p["prediction_id"] for p in predictions}) == len(records)
    single = client.post("/predict", json=records[-1]).json()
    assert predictions[-1]["prediction"] == single["prediction"]


def test_logged_prediction_has_input_feedback_and_lineage(client: TestClient) -> None:
    features = record(colour=None)
    answer = client.post("/predict", json=features, headers={"X-Request-ID": "trace-42"}).json()
    logged = client.get(f"/predictions/{answer['prediction_id']}")
    assert logged.status_code == 200
    body = logged.json()
    assert body["input"] == features
    assert body["prediction"] == answer["prediction"]
    assert body["request_id"] == "trace-42"
    assert body["feedback"] == {"actual": None, "history": []}
    lineage = body["lineage"]
    assert lineage["model_name"] == MODEL_NAMES[TASK]
    assert lineage["model_version"] == "1"
    assert lineage["git_commit"] == "0123456789abcdef0123456789abcdef01234567"
    assert lineage["data_raw"] == "d41d8cd98f00b204e9800998ecf8427e"
    assert len(lineage["run_id"]) == 32


def test_unknown_prediction_is_404(client: TestClient) -> None:
    assert client.get(f"/predictions/{uuid.uuid4()}").status_code == 404


def test_model_describes_version_metrics_and_signature(client: TestClient) -> None:
    body = client.get("/model").json()
    assert body["name"] == MODEL_NAMES[TASK]
    assert body["version"] == "1"
    assert body["alias"] == "champion"
    assert body["task"] == TASK
    assert "test_roc_auc" in body["metrics"] or "test_rmse" in body["metrics"]
    assert [c["name"] for c in body["signature"]["inputs"]] == ["mean radius", "texture (%)", "colour"]


def test_openapi_shows_real_feature_names(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert set(schema["components"]["schemas"]["Record"]["properties"]) == {"mean radius", "texture (%)", "colour"}
    assert client.get("/docs").status_code == 200


def test_metrics_count_predictions_and_feedback(client: TestClient) -> None:
    answer = client.post("/predict", json=record()).json()
    actual = 1 if TASK == "classification" else 3.5
    client.post("/feedback", json={"prediction_id": answer["prediction_id"], "actual": actual})
    text = client.get("/metrics").text
    assert 'model_predictions_total{endpoint="single",model_version="1"} 1.0' in text
    assert 'model_feedback_total{outcome="created"} 1.0' in text
    assert "http_request_duration_seconds" in text


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get("/health", headers={"X-Request-ID": "bad id\nforged"}).headers["X-Request-ID"]
    assert len(made) == 32 and made.isalnum()


def test_each_request_writes_one_json_access_line_and_uvicorn_none(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    client.get("/health", headers={"X-Request-ID": "line-7"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    access = [
        (line["request_id"], line["path"], line["status"]) for line in lines if line["logger"] == "service.access"
    ]
    assert access == [("line-7", "/health", 200)]
    assert not [line for line in lines if line["logger"].startswith("uvicorn")]
    # The handler uvicorn's logging config gives its access logger is taken away, not only muted: without one,
    # uvicorn does not build its line at all.
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorns_own = logging.StreamHandler()
    uvicorn_access.addHandler(uvicorns_own)
    configure_logging()
    assert uvicorns_own not in uvicorn_access.handlers and not uvicorn_access.propagate
