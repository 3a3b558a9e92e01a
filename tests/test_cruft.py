"""A project created with cruft from this template is linked to it: `cruft check` reports it up to date."""

import shutil
import subprocess
import sys
from pathlib import Path

from tests.options import TEMPLATE

CRUFT = [sys.executable, "-m", "cruft"]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True, capture_output=True
    )


def template_repository(tmp_path: Path) -> Path:
    """cruft clones its template; copy the working tree into a committed repository so local edits count."""
    repo = tmp_path / "template"
    shutil.copytree(TEMPLATE, repo, ignore=shutil.ignore_patterns(".git", ".venv", "build", "__pycache__", ".*_cache"))
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "template")
    return repo


def test_cruft_create_then_check_is_up_to_date(tmp_path):
    repo = template_repository(tmp_path)
    out = tmp_path / "out"
    created = subprocess.run(
        [*CRUFT, "create", str(repo), "--no-input", "--output-dir", str(out)], capture_output=True, text=True
    )
    assert created.returncode == 0, created.stdout + created.stderr
    project = out / "my_ml_product"
    assert (project / ".cruft.json").is_file()
    assert (project / "pyproject.toml").is_file()
    checked = subprocess.run([*CRUFT, "check"], cwd=project, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "up to date" in checked.stdout
