"""Feedback: stored once per distinct report, corrections kept as history, the latest counts; actual is checked."""

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import TASK, make_settings, record, serving_app

ACTUALS = {"classification": (1, 0), "regression": (12.5, 7.0)}


def predict(client: TestClient) -> str:
    prediction_id: str = client.post("/predict", json=record()).json()["prediction_id"]
    return prediction_id


def test_feedback_is_stored_and_shown_with_the_prediction(client: TestClient) -> None:
    prediction_id = predict(client)
    first = ACTUALS[TASK][0]
    response = client.post("/feedback", json={"prediction_id": prediction_id, "actual": first, "rating": 4})
    assert response.status_code == 201
    assert response.json()["revision"] == 1
    assert response.json()["actual"] == first
    feedback = client.get(f"/predictions/{prediction_id}").json()["feedback"]
    assert feedback["actual"] == first
    assert [f["rating"] for f in feedback["history"]] == [4]


def test_same_feedback_twice_is_stored_once(client: TestClient) -> None:
    body = {"prediction_id": predict(client), "actual": ACTUALS[TASK][0], "comment": "from the CRM"}
    first = client.post("/feedback", json=body)
    again = client.post("/feedback", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(client.get(f"/predictions/{body['prediction_id']}").json()["feedback"]["history"]) == 1


def test_feedback_without_a_key_is_recorded_as_anonymous(client: TestClient) -> None:
    prediction_id = predict(client)
    response = client.post("/feedback", json={"prediction_id": prediction_id, "actual": ACTUALS[TASK][0]})
    assert response.json()["source"] == "anonymous"
    assert client.get(f"/predictions/{prediction_id}").json()["feedback"]["history"][0]["source"] == "anonymous"


def test_feedback_sent_with_api_key_is_recorded_as_the_default_key(tracking_uri: str, tmp_path: Path) -> None:
    settings = make_settings(tracking_uri, tmp_path / "k.db", api_key="s3cr3t-key-for-tests")
    with TestClient(serving_app(settings), headers={"X-API-Key": "s3cr3t-key-for-tests"}) as keyed:
        response = keyed.post("/feedback", json={"prediction_id": predict(keyed), "actual": ACTUALS[TASK][0]})
    assert response.status_code == 201
    assert response.json()["source"] == "default"


@pytest.mark.parametrize("claimed", ["trusted-reviewer", None])
def test_body_cannot_choose_the_source(client: TestClient, claimed: str | None) -> None:
    prediction_id = predict(client)
    body = {"prediction_id": prediction_id, "actual": ACTUALS[TASK][0], "source": claimed}
    response = client.post("/feedback", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "source"]
    assert "recorded from the caller's API key" in detail["msg"]
    assert client.get(f"/predictions/{prediction_id}").json()["feedback"]["history"] == []


def test_correction_is_kept_with_history_and_the_latest_counts(client: TestClient) -> None:
    prediction_id = predict(client)
    first, second = ACTUALS[TASK]
    client.post("/feedback", json={"prediction_id": prediction_id, "actual": first})
    correction = client.post("/feedback", json={"prediction_id": prediction_id, "actual": second})
    assert correction.status_code == 201
    assert correction.json()["revision"] == 2
    feedback = client.get(f"/predictions/{prediction_id}").json()["feedback"]
    assert feedback["actual"] == second
    assert [f["actual"] for f in feedback["history"]] == [first, second]


def test_feedback_for_unknown_prediction_is_404(client: TestClient) -> None:
    response = client.post("/feedback", json={"prediction_id": str(uuid.uuid4()), "actual": ACTUALS[TASK][0]})
    assert response.status_code == 404


@pytest.fixture
def classifier(tracking_uri: str, tmp_path: Path) -> Any:
    with TestClient(serving_app(make_settings(tracking_uri, tmp_path / "c.db", task="classification"))) as client:
        yield client


@pytest.fixture
def regressor(tracking_uri: str, tmp_path: Path) -> Any:
    with TestClient(serving_app(make_settings(tracking_uri, tmp_path / "r.db", task="regression"))) as client:
        yield client


def test_class_given_as_text_matches_the_integer_class(classifier: TestClient) -> None:
    prediction_id = predict(classifier)
    response = classifier.post("/feedback", json={"prediction_id": prediction_id, "actual": "1"})
    assert response.status_code == 201
    assert response.json()["actual"] == 1
    # The same report in another spelling is a repeat, not a correction.
    assert classifier.post("/feedback", json={"prediction_id": prediction_id, "actual": 1.0}).status_code == 200


def test_unknown_class_is_422_saying_why(classifier: TestClient) -> None:
    response = classifier.post("/feedback", json={"prediction_id": predict(classifier), "actual": "maybe"})
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "actual"]
    assert "not one of the model's classes [0, 1]" in detail["msg"]
    assert detail["input"] == "maybe"


def test_feedback_422s_take_the_shape_of_predicts(classifier: TestClient) -> None:
    """One shape for every 422 a client meets: FastAPI's {"detail": [{"type", "loc", "msg", "input"}]}."""
    refused_label = classifier.post("/feedback", json={"prediction_id": predict(classifier), "actual": "maybe"})
    refused_record = classifier.post("/predict", json={})
    assert refused_label.status_code == refused_record.status_code == 422
    assert set(refused_label.json()) == set(refused_record.json()) == {"detail"}
    assert {key for key in refused_label.json()["detail"][0] if key != "ctx"} == {"type", "loc", "msg", "input"}
    assert {key for key in refused_record.json()["detail"][0] if key != "ctx"} == {"type", "loc", "msg", "input"}


@pytest.mark.parametrize("actual", ["NaN", "Infinity", '"lots"'])
def test_regression_actual_must_be_a_finite_number(regressor: TestClient, actual: str) -> None:
    body = json.dumps({"prediction_id": predict(regressor), "actual": "?"}).replace('"?"', actual)
    response = regressor.post("/feedback", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "actual"]
