"""Lineage: hashes match what DVC records, a missing lock or repository is reported, and what makes a tree dirty."""

import hashlib
import subprocess
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.io.lineage import (
    NO_COMMIT,
    data_hashes,
    dvc_experiment,
    file_md5,
    git_state,
    locked_hashes,
    pipeline_records,
)
from {{ cookiecutter.package_name }}.settings import PACKAGE_CHECKOUT


def test_file_md5_is_the_md5_of_the_bytes(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_bytes(b"a,b\n1,2\n")
    assert file_md5(tmp_path / "data.csv") == hashlib.md5(b"a,b\n1,2\n").hexdigest()


def test_hashes_come_from_dvc_lock_when_it_matches_the_file(tmp_path: Path) -> None:
    (tmp_path / "raw.csv").write_text("x\n1\n")
    (tmp_path / "test.csv").write_text("x\n2\n")
    lock = {
        "schema": "2.0",
        "stages": {"ingest": {"outs": [{"path": "raw.csv", "md5": file_md5(tmp_path / "raw.csv")}]}},
    }
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump(lock))
    assert locked_hashes(tmp_path / "dvc.lock") == {"raw.csv": file_md5(tmp_path / "raw.csv")}
    hashes, computed = data_hashes(tmp_path, {"raw": "raw.csv", "test": "test.csv"})
    assert hashes == {"raw": file_md5(tmp_path / "raw.csv"), "test": file_md5(tmp_path / "test.csv")}
    assert computed == ["test"]


def test_outside_a_repository_the_commit_is_none(tmp_path: Path) -> None:
    assert git_state(tmp_path) == (NO_COMMIT, True)


def git(root: Path, *args: str) -> None:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", *identity, *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def committed_project(tmp_path: Path) -> Path:
    """A repository holding the project's dvc.yaml, a params.yaml, code and a metrics file kept in git."""
    (tmp_path / "dvc.yaml").write_text((PACKAGE_CHECKOUT / "dvc.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "params.yaml").write_text("train:\n  seed: 1\n", encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "model.py").write_text("SEED = 1\n", encoding="utf-8")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "metrics.json").write_text("{}\n", encoding="utf-8")
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "-m", "start")
    return tmp_path


def test_a_fresh_commit_is_clean(committed_project: Path) -> None:
    commit, dirty = git_state(committed_project)
    assert len(commit) == 40
    assert not dirty


def test_what_the_pipeline_writes_does_not_make_the_tree_dirty(committed_project: Path) -> None:
    (committed_project / "reports" / "metrics.json").write_text('{"accuracy": 0.9}\n', encoding="utf-8")
    (committed_project / "dvc.lock").write_text("schema: '2.0'\n", encoding="utf-8")
    (committed_project / "models").mkdir()
    (committed_project / "models" / ".gitignore").write_text("/model.pkl\n", encoding="utf-8")
    # `core.autostage` makes DVC stage the lock and the .gitignore files it writes.
    git(committed_project, "add", "dvc.lock", "models/.gitignore")
    (committed_project / "notes.txt").write_text("untracked files do not count\n", encoding="utf-8")
    assert git_state(committed_project)[1] is False


@pytest.mark.parametrize(
    ("relative", "content"), [("params.yaml", "train:\n  seed: 2\n"), ("src/model.py", "SEED = 2\n")]
)
def test_changed_params_or_code_make_the_tree_dirty(committed_project: Path, relative: str, content: str) -> None:
    (committed_project / relative).write_text(content, encoding="utf-8")
    assert git_state(committed_project)[1] is True
    git(committed_project, "add", relative)
    assert git_state(committed_project)[1] is True


def test_pipeline_records_are_the_lock_and_the_outputs_of_dvc_yaml() -> None:
    records = pipeline_records(PACKAGE_CHECKOUT)
    assert {"dvc.lock", "models/model.pkl", "models/run.json", "models/.gitignore", "reports/metrics.json"} <= records
    assert {"data/expectations.json", "data/raw/data.csv", "data/raw/.gitignore"} <= records
    assert not {"params.yaml", "dvc.yaml", "data/external"} & records


def test_the_experiment_name_comes_from_dvc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_EXP_NAME", "tined-snib")
    assert dvc_experiment() == "tined-snib"
    monkeypatch.delenv("DVC_EXP_NAME")
    assert dvc_experiment() is None
