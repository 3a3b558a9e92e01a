"""Bad input gets a 4xx that names the field, never a 5xx."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import record


def error_fields(response: Any) -> list[str]:
    return [str(error["loc"][-1]) for error in response.json()["detail"]]


def test_missing_field_is_named(client: TestClient) -> None:
    features = record()
    del features["texture (%)"]
    response = client.post("/predict", json=features)
    assert response.status_code == 422
    assert error_fields(response) == ["texture (%)"]


def test_wrong_type_is_named(client: TestClient) -> None:
    response = client.post("/predict", json=record(**{"mean radius": "large"}, colour=3))
    assert response.status_code == 422
    assert set(error_fields(response)) >= {"mean radius", "colour"}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_by_name(client: TestClient, literal: str) -> None:
    body = json.dumps(record(**{"mean radius": 123.25})).replace("123.25", literal)
    response = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "mean radius" in error_fields(response)


def test_extra_field_is_refused_by_name(client: TestClient) -> None:
    response = client.post("/predict", json=record(shoe_size=43))
    assert response.status_code == 422
    assert error_fields(response) == ["shoe_size"]


def test_malformed_json_is_422(client: TestClient) -> None:
    response = client.post("/predict", content=b'{"mean radius": 1.0,', headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_empty_batch_is_422(client: TestClient) -> None:
    response = client.post("/predict/batch", json=[])
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "too_short"


def test_batch_over_max_batch_size_is_422(client: TestClient) -> None:
    response = client.post("/predict/batch", json=[record()] * 51)
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "too_long"


def test_bad_record_in_batch_is_named_with_its_index(client: TestClient) -> None:
    response = client.post("/predict/batch", json=[record(), record(colour=["red"])])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", 1, "colour"]


def test_body_over_max_body_bytes_is_413(client: TestClient) -> None:
    response = client.post("/predict/batch", json=[record(colour="x" * 1000)] * 30)
    assert response.status_code == 413
    assert "MAX_BODY_BYTES" in response.json()["detail"]


def test_streamed_body_over_max_body_bytes_is_413(client: TestClient) -> None:
    chunks = iter([b'[{"mean radius": 1.0, "texture (%)": 1.0, "colour": "', b"x" * 25_000, b'"}]'])
    response = client.post("/predict/batch", content=chunks, headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_a_chunked_body_that_also_declares_a_small_length_is_counted(client: TestClient) -> None:
    # Framed by its chunks where a server accepts both headers: the small declared length proves nothing.
    chunks = iter([b'[{"mean radius": 1.0, "texture (%)": 1.0, "colour": "', b"x" * 25_000, b'"}]'])
    headers = {"Content-Type": "application/json", "Content-Length": "10", "Transfer-Encoding": "chunked"}
    response = client.post("/predict/batch", content=chunks, headers=headers)
    assert response.status_code == 413


def test_non_uuid_prediction_id_is_422(client: TestClient) -> None:
    response = client.get("/predictions/not-a-uuid")
    assert response.status_code == 422
    assert error_fields(response) == ["prediction_id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"actual": 1}, "prediction_id"),
        ({"prediction_id": "00000000-0000-0000-0000-000000000000"}, "actual"),
        ({"prediction_id": "00000000-0000-0000-0000-000000000000", "actual": 1, "rating": 9}, "rating"),
        ({"prediction_id": "00000000-0000-0000-0000-000000000000", "actual": 1, "mood": "ok"}, "mood"),
    ],
)
def test_bad_feedback_is_named(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.post("/feedback", json=body)
    assert response.status_code == 422
    assert field in error_fields(response)
