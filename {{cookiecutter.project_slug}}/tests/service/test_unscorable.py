"""A record the model cannot score is refused alone: a 422 naming the feature, and its batch-mates answered."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from {{ cookiecutter.package_name }}.service.fast.numpy_path import NumpyServedModel, with_numpy_path
from {{ cookiecutter.package_name }}.service.prediction import predict_and_log
from {{ cookiecutter.package_name }}.service.served_model import Output, ServedModel, load_served_model
from {{ cookiecutter.package_name }}.service.unscorable import Unscorable
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.store.database import create_db_engine, upgrade
from {{ cookiecutter.package_name }}.store.repository import record_model_version
from {{ cookiecutter.package_name }}.store.tables import Prediction

from .conftest import DOSE, HUGE, fragile_settings, serving_app


@pytest.fixture
def settings(fragile_uri: str, tmp_path: Path) -> Settings:
    return fragile_settings(fragile_uri, tmp_path / "p.db")


@pytest.fixture
def fragile_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(serving_app(settings)) as client:
        yield client


def dose(value: float | None, **changes: Any) -> dict[str, Any]:
    return {"mean radius": 14.0, DOSE: value, "colour": "red"} | changes


def logged(settings: Settings) -> dict[str, list[str] | None]:
    """Prediction id -> its out-of-range flag, for every logged prediction."""
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        rows = connection.execute(select(Prediction.id, Prediction.out_of_range)).all()
    engine.dispose()
    return {str(prediction_id): flag for prediction_id, flag in rows}


def test_an_overflowing_record_is_422_naming_feature_and_range(fragile_client: TestClient, settings: Settings) -> None:
    response = fragile_client.post("/predict", json=dose(HUGE))
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["type"] == "unscorable"
    assert error["loc"] == ["body", DOSE]
    assert DOSE in error["msg"]
    assert "[0, 0.002]" in error["msg"]
    assert logged(settings) == {}


def test_good_requests_sent_with_unscorable_ones_all_get_200(fragile_client: TestClient, settings: Settings) -> None:
    # 8 good records beside each bad one, concurrently, so that they share micro-batches.
    bodies = [dose(-HUGE if i % 2 else HUGE) if i % 9 == 0 else dose(0.001 + i / 1e6) for i in range(180)]
    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(lambda body: fragile_client.post("/predict", json=body).status_code, bodies))
    expected = [422 if i % 9 == 0 else 200 for i in range(180)]
    assert statuses == expected
    assert len(logged(settings)) == expected.count(200)


def test_a_batch_with_an_unscorable_record_is_refused_whole(fragile_client: TestClient, settings: Settings) -> None:
    response = fragile_client.post("/predict/batch", json=[dose(0.001), dose(HUGE), dose(0.0012), dose(-HUGE)])
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", 1, DOSE], ["body", 3, DOSE]]
    assert logged(settings) == {}
    assert fragile_client.post("/predict/batch", json=[dose(0.001), dose(0.0012)]).status_code == 200


def test_a_huge_value_that_stays_finite_is_scored_and_flagged(fragile_client: TestClient, settings: Settings) -> None:
    inside = fragile_client.post("/predict", json=dose(0.001))
    outside = fragile_client.post("/predict", json=dose(1e6, **{"mean radius": -1e12}))
    assert inside.status_code == outside.status_code == 200
    flags = logged(settings)
    assert flags[inside.json()["prediction_id"]] is None
    assert sorted(flags[outside.json()["prediction_id"]] or []) == sorted([DOSE, "mean radius"])


@pytest.fixture(scope="module")
def fragile_model(fragile_uri: str, tmp_path_factory: pytest.TempPathFactory) -> ServedModel:
    return load_served_model(fragile_settings(fragile_uri, tmp_path_factory.mktemp("m") / "m.db"))


def test_numpy_path_and_dataframe_isolate_the_same_records_alike(fragile_model: ServedModel) -> None:
    numpy_model = with_numpy_path(fragile_model)
    assert isinstance(numpy_model, NumpyServedModel)
    records = [dose(0.001), dose(HUGE), dose(None), dose(-HUGE, colour=None), dose(0.0015, colour="never seen")]
    fast, plain = numpy_model.predict(records), fragile_model.predict(records)
    assert [type(output) for output in fast] == [type(output) for output in plain]
    assert [isinstance(output, Unscorable) for output in fast] == [False, True, False, True, False]
    assert [o.feature for o in fast if isinstance(o, Unscorable)] == [DOSE, DOSE]
    scored = [(f, p) for f, p in zip(fast, plain, strict=True) if isinstance(f, Output) and isinstance(p, Output)]
    assert [f.prediction for f, _ in scored] == pytest.approx([p.prediction for _, p in scored])
    alone = numpy_model.predict([records[0]])[0]
    assert isinstance(alone, Output)
    assert alone.prediction == pytest.approx(scored[0][0].prediction)


def test_only_the_scorable_records_of_a_gathered_batch_are_logged(fragile_model: ServedModel, tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'b.db'}")
    upgrade(engine)
    record_model_version(engine, fragile_model.name, fragile_model.version, fragile_model.run_id, {})
    answers = predict_and_log(fragile_model, engine, [(dose(0.001), "a"), (dose(HUGE), "b"), (dose(0.0011), "c")])
    assert [isinstance(answer, Unscorable) for answer in answers] == [False, True, False]
    with engine.connect() as connection:
        assert sorted(str(found) for found in connection.scalars(select(Prediction.request_id))) == ["a", "c"]
    engine.dispose()
