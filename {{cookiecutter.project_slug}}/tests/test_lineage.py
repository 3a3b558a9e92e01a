"""Lineage: hashes match what DVC records, and a missing lock or repository is reported, not fatal."""

import hashlib
from pathlib import Path

import yaml

from {{ cookiecutter.package_name }}.io.lineage import NO_COMMIT, data_hashes, file_md5, git_state, locked_hashes


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
