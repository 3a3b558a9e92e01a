"""Concurrent predictions and feedback: every acknowledged request is exactly one committed row; workers starting
together record their model version once."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.store import repository
from {{ cookiecutter.package_name }}.store.database import create_db_engine, upgrade
from {{ cookiecutter.package_name }}.store.tables import Feedback, ModelVersion, Prediction

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


def test_a_worker_that_loses_the_race_to_record_its_version_starts_all_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'race.db'}")
    upgrade(engine)
    repository.record_model_version(engine, "model", "1", None, {})

    class ReadBeforeTheOtherCommitted(Session):
        def get(self, *args: Any, **kwargs: Any) -> Any:
            return None

    # Its read saw no row, its insert meets the other worker's: the version is recorded, once, and nothing fails.
    monkeypatch.setattr(repository, "Session", ReadBeforeTheOtherCommitted)
    repository.record_model_version(engine, "model", "1", None, {})
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(ModelVersion)) == 1
    engine.dispose()
