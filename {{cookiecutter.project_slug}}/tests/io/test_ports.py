"""The ports doctor checks: the defaults, overridden by the environment, and the team stack's once it is configured."""

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.io.ports import configured_ports


def test_the_defaults_are_the_readmes_and_the_environment_overrides_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("API_PORT", "MLFLOW_PORT", "EVIDENTLY_PORT"):
        monkeypatch.delenv(variable, raising=False)
    assert configured_ports(tmp_path) == [
        ("API_PORT", 8000, "make serve API_PORT="),
        ("MLFLOW_PORT", 5000, "make mlflow-ui MLFLOW_PORT="),
    ]
    monkeypatch.setenv("API_PORT", "8010")
    monkeypatch.setenv("EVIDENTLY_PORT", "8011")
    assert configured_ports(tmp_path) == [
        ("API_PORT", 8010, "make serve API_PORT="),
        ("MLFLOW_PORT", 5000, "make mlflow-ui MLFLOW_PORT="),
        ("EVIDENTLY_PORT", 8011, "make monitoring-ui EVIDENTLY_PORT="),
    ]


def test_the_team_stacks_ports_count_once_deploy_env_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("API_PORT", "MLFLOW_PORT", "EVIDENTLY_PORT", "POSTGRES_PORT", "S3_PORT"):
        monkeypatch.delenv(variable, raising=False)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / ".env").write_text("# ports of the stack\nPOSTGRES_PORT=5433\nMLFLOW_PORT='5001'\n")
    ports = {variable: (port, retry) for variable, port, retry in configured_ports(tmp_path)}
    assert ports["MLFLOW_PORT"] == (5001, "make mlflow-ui MLFLOW_PORT=")
    assert ports["POSTGRES_PORT"] == (5433, "set in deploy/.env: POSTGRES_PORT=")
    assert ports["S3_PORT"] == (8333, "set in deploy/.env: S3_PORT=")
