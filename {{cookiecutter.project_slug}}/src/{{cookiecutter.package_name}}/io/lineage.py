"""Where a model came from: the git commit, whether the tree was dirty, and the DVC hashes of its data."""

import hashlib
import os
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

NO_COMMIT = "none"


def git_state(root: Path) -> tuple[str, bool]:
    """(commit, dirty) of the repository at root; ("none", True) before the first commit or without git.

    Dirty means that a tracked file under root differs from the commit, staged or not: code, params.yaml, dvc.yaml,
    a `.dvc` file. The pipeline's own records do not count (see pipeline_records), nor do untracked files.
    """
    try:
        commit = _git(root, "rev-parse", "--verify", "HEAD")
        changed = _git(root, "diff", "HEAD", "--name-only", "--no-renames", "--relative", "-z").split("\0")
    except (OSError, subprocess.CalledProcessError):
        return NO_COMMIT, True
    records = pipeline_records(root)
    return commit, any(path and not _is_record(path, records) for path in changed)


def pipeline_records(root: Path) -> set[str]:
    """Files `dvc repro` itself writes: dvc.lock, every stage output in dvc.yaml and the .gitignore DVC keeps beside it.

    They change on every run, so counting them would make every model after the first one dirty.
    """
    dvc_yaml = root / "dvc.yaml"
    pipeline: dict[str, Any] = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8")) if dvc_yaml.is_file() else {}
    records = {"dvc.lock"}
    for stage in (pipeline or {}).get("stages", {}).values():
        for kind in ("outs", "metrics", "plots"):
            for out in stage.get(kind, []):
                path = PurePosixPath(next(iter(out)) if isinstance(out, dict) else out)
                records |= {str(path), str(path.parent / ".gitignore")}
    return records


def _is_record(path: str, records: set[str]) -> bool:
    return any(path == record or path.startswith(record + "/") for record in records)


def dvc_experiment() -> str | None:
    """The name of the DVC experiment running this stage (`dvc exp run` sets DVC_EXP_NAME), else None."""
    return os.environ.get("DVC_EXP_NAME") or None


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def file_md5(path: Path) -> str:
    """The md5 of a file's bytes, which is the hash DVC 3 records for a file output."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def locked_hashes(lock_file: Path) -> dict[str, str]:
    """Output path -> md5 for every stage output recorded in dvc.lock (empty when there is no lock yet)."""
    if not lock_file.is_file():
        return {}
    lock: dict[str, Any] = yaml.safe_load(lock_file.read_text(encoding="utf-8")) or {}
    return {
        out["path"]: out["md5"]
        for stage in lock.get("stages", {}).values()
        for out in stage.get("outs", [])
        if "md5" in out
    }


def data_hashes(root: Path, paths: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Name -> md5 of each data file, from dvc.lock when it matches the file, else computed like DVC does.

    Returns the hashes and the names that were computed (dvc.lock is only written after a stage ends, so a stage run
    outside `dvc repro`, or data changed since the lock, gets its hash from the bytes on disk).
    """
    locked = locked_hashes(root / "dvc.lock")
    hashes, computed = {}, []
    for name, relative in paths.items():
        actual = file_md5(root / relative)
        hashes[name] = actual
        if locked.get(relative) != actual:
            computed.append(name)
    return hashes, computed
