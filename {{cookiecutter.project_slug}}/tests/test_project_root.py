"""Project root: stages work in the folder DVC runs them in (a queued experiment's copy), state stays in the project."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.jobs import ingest
from {{ cookiecutter.package_name }}.jobs.context import RAW
from {{ cookiecutter.package_name }}.params import load_params, params_file
from {{ cookiecutter.package_name }}.settings import (
    PACKAGE_CHECKOUT,
    Settings,
    find_project_root,
    find_state_root,
    get_settings,
)

from conftest import byod_frame


@pytest.fixture
def copy_of_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the project's dvc.yaml and params.yaml, as DVC makes for a queued experiment, reading a CSV."""
    copy = tmp_path / "exp-copy"
    (copy / "data" / "external").mkdir(parents=True)
    (copy / "dvc.yaml").write_text((PACKAGE_CHECKOUT / "dvc.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    raw = yaml.safe_load(params_file().read_text(encoding="utf-8"))
    raw["data"] |= {"source": "data/external/byod.csv", "target": "Target?"}
    (copy / "params.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    byod_frame(raw["task"]).to_csv(copy / "data/external/byod.csv", index=False)
    # Earlier tests may leave MLFLOW_TRACKING_URI set (mlflow.set_tracking_uri exports it): defaults are tested here.
    for name in ["DVC_ROOT", *(field.upper() for field in Settings.model_fields)]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(copy)
    get_settings.cache_clear()
    yield copy
    get_settings.cache_clear()


def test_the_root_is_found_from_a_subfolder_of_the_working_directory(copy_of_project: Path) -> None:
    nested = copy_of_project / "data" / "external"
    assert find_project_root(nested) == copy_of_project
    assert find_project_root() == copy_of_project


def test_outside_any_project_the_root_is_the_package_checkout(tmp_path: Path) -> None:
    assert find_project_root(tmp_path) == PACKAGE_CHECKOUT


def test_params_come_from_the_working_directory_project(copy_of_project: Path) -> None:
    assert params_file() == copy_of_project / "params.yaml"
    assert load_params().data.source == "data/external/byod.csv"


def test_a_stage_writes_into_the_copy_it_runs_in(copy_of_project: Path) -> None:
    workspace_raw = PACKAGE_CHECKOUT / RAW
    before = workspace_raw.read_bytes() if workspace_raw.is_file() else None
    ingest.main()
    assert (copy_of_project / RAW).is_file()
    assert (workspace_raw.read_bytes() if workspace_raw.is_file() else None) == before


def test_without_dvc_root_the_state_lives_in_the_project(copy_of_project: Path) -> None:
    settings = Settings(_env_file=None)
    assert find_state_root() == copy_of_project
    assert settings.mlflow_tracking_uri == f"sqlite:///{copy_of_project / 'mlflow.db'}"
    assert settings.project_root == copy_of_project


def test_a_queued_experiment_keeps_its_state_in_the_project_dvc_names(
    copy_of_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    main_project = tmp_path / "main"
    main_project.mkdir()
    (main_project / ".env").write_text("MLFLOW_EXPERIMENT=from_the_main_env\n", encoding="utf-8")
    monkeypatch.setenv("DVC_ROOT", str(main_project))
    settings = get_settings()
    assert settings.project_root == copy_of_project
    assert settings.mlflow_tracking_uri == f"sqlite:///{main_project / 'mlflow.db'}"
    assert settings.mlflow_artifact_root == main_project / "mlartifacts"
    assert settings.database_url == f"sqlite:///{main_project / 'predictions.db'}"
    assert settings.mlflow_experiment == "from_the_main_env"
