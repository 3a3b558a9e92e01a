"""A burst of POST /admin/reload over HTTP: the calls join one reload, and each answers within about a second."""

import threading
import time
import uuid
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import create_engine, func, select

from {{ cookiecutter.package_name }}.io.service_admin import request_reload
from {{ cookiecutter.package_name }}.service.app import create_app
from {{ cookiecutter.package_name }}.service.served_model import ServedModel, load_served_model
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.store.tables import ModelReload

from .test_reload import register_version, settings_for
from conftest import serving_in_thread

BURST = 16
# Longer than the service's reply time, so that the burst meets a reload in flight and sees its 202.
LOAD_DELAY_S = 2.0


class CountedSlowLoader:
    """The real loader, after a pause standing in for a big model or a slow registry; it counts its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, settings: Settings) -> ServedModel:
        with self.lock:
            self.calls += 1
            first = self.calls == 1
        if not first:  # the start-up load stays quick
            time.sleep(LOAD_DELAY_S)
        return load_served_model(settings)


@pytest.fixture
def model_name(tracking_uri: str) -> str:
    """A registered model of this test's own, at version 1 (as in test_reload.py)."""
    name = f"burst_{uuid.uuid4().hex[:8]}"
    register_version(tracking_uri, name)
    return name


def reload_rows(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(ModelReload)).scalar_one()
    engine.dispose()
    return int(count)


def test_a_burst_of_reloads_joins_one_and_every_call_answers_within_a_second(
    tracking_uri: str, tmp_path: Path, model_name: str
) -> None:
    settings = settings_for(tracking_uri, tmp_path, model_name)
    loader = CountedSlowLoader()
    with serving_in_thread(create_app(settings, model_loader=loader)) as base:
        rows_before = reload_rows(settings.database_url)
        register_version(tracking_uri, model_name)
        first_answers: list[tuple[int, float, dict[str, str]]] = []
        start = threading.Barrier(BURST)

        def call() -> None:
            # A client of its own, made before the start: making one costs tens of milliseconds of this process.
            with httpx2.Client(base_url=base, timeout=10) as own:
                start.wait()
                began = time.perf_counter()
                response = own.post("/admin/reload")
                first_answers.append((response.status_code, time.perf_counter() - began, response.json()))

        threads = [threading.Thread(target=call) for _ in range(BURST)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        latencies = sorted(seconds for _, seconds, _ in first_answers)
        print(f"\n{BURST} concurrent POST /admin/reload, first answer in s: {[round(s, 3) for s in latencies]}")

        assert len(first_answers) == BURST
        assert {code for code, _, _ in first_answers} <= {200, 202}
        pending = [body for code, _, body in first_answers if code == 202]
        assert pending, "a load slower than the reply time must answer 202"
        # One reload in flight: every 202 names the same one, and its location answers with the outcome.
        assert len({body["id"] for body in pending}) == 1
        deadline = time.monotonic() + 60
        outcome = httpx2.get(f"{base}{pending[0]['location']}", timeout=10)
        while outcome.status_code == 202 and time.monotonic() < deadline:
            outcome = httpx2.get(f"{base}{pending[0]['location']}", timeout=10)
        assert outcome.status_code == 200, outcome.text
        assert (outcome.json()["status"], outcome.json()["version"]) == ("reloaded", "2")
        # One load for the burst (the other is the start-up's) and one recorded reload, not one per call.
        assert loader.calls == 2
        assert reload_rows(settings.database_url) == rows_before + 1
        # The client the jobs use follows a 202 to the outcome; nothing moved since, so this one is unchanged.
        assert request_reload(base, None, timeout=60)["status"] == "unchanged"
        assert loader.calls == 3


def test_an_unknown_reload_id_is_404_with_what_to_do_and_a_malformed_one_422(
    tracking_uri: str, tmp_path: Path, model_name: str
) -> None:
    settings = settings_for(tracking_uri, tmp_path, model_name)
    with serving_in_thread(create_app(settings, model_loader=load_served_model)) as base:
        answer = httpx2.get(f"{base}/admin/reload/0123456789ab", timeout=10)
        assert answer.status_code == 404
        assert "POST /admin/reload again" in answer.json()["detail"]
        malformed = httpx2.get(f"{base}/admin/reload/nosuchreload", timeout=10)
        assert malformed.status_code == 422
        assert malformed.json()["detail"][0]["loc"] == ["path", "reload_id"]
