"""Concurrent predictions and feedback: every acknowledged request is exactly one committed row."""

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.store.tables import Feedback, Prediction

from .conftest import TASK, record

N = 200


def test_200_concurrent_predictions_and_feedbacks_leave_200_rows_each(client: TestClient, settings: Settings) -> None:
    actual = 1 if TASK == "classification" else 4.2

    def predict_then_report(i: int) -> tuple[int, int]:
        answer = client.post("/predict", json=record(**{"mean radius": 10.0 + i / 10}))
        sent = client.post("/feedback", json={"prediction_id": answer.json()["prediction_id"], "actual": actual})
        return answer.status_code, sent.status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(predict_then_report, range(N)))
    assert statuses == [(200, 201)] * N
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Prediction)) == N
        assert connection.scalar(select(func.count()).select_from(Feedback)) == N
        assert connection.scalar(select(func.count(func.distinct(Feedback.prediction_id)))) == N
    engine.dispose()
