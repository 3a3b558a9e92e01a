"""The cheap look at the registry: a pinned version needs no look, a local store is MLflow's to read, a registry
that cannot answer is "unknown". The look at a real `mlflow server` is in tests/service/test_reload.py."""

import pytest

from {{ cookiecutter.package_name }}.io.registry_lookup import credentials, registry_version

from conftest import free_port


def test_a_pinned_version_is_its_own_answer() -> None:
    # No request is made: nothing listens on this port.
    assert registry_version(f"http://127.0.0.1:{free_port()}", "models:/churn/3") == "3"


def test_a_local_store_is_left_to_mlflow() -> None:
    assert registry_version("sqlite:///mlflow.db", "models:/churn@champion") is None
    assert registry_version("file:./mlruns", "models:/churn@champion") is None


def test_a_registry_that_does_not_answer_is_unknown() -> None:
    assert registry_version(f"http://127.0.0.1:{free_port()}", "models:/churn@champion") is None


def test_credentials_are_the_ones_mlflow_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    assert credentials() == {}
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ada")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "secret")
    assert credentials() == {"auth": ("ada", "secret")}
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "t0k3n")
    assert credentials() == {"headers": {"Authorization": "Bearer t0k3n"}}
