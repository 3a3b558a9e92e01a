"""Slow tier: install baked projects with their own `make install` and run their own checks and lifecycle."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from tests.options import TEMPLATE

pytestmark = pytest.mark.slow


def run(project: Path, *command: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run a command in the baked project; the template venv's bin (uv) is on the PATH, as after `make test`."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


@pytest.fixture(scope="module", params=["classification", "regression"], ids=lambda t: f"task:{t}")
def installed_project(request, tmp_path_factory):
    if shutil.which("git") is None or shutil.which("make") is None:
        pytest.fail("the slow tier needs git and make on the PATH")
    out = tmp_path_factory.mktemp(f"slow-{request.param}")
    project = Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context={"task": request.param}, output_dir=out))
    run(project, "make", "install")
    return project


def test_installed_project_passes_its_own_lint_types_and_tests(installed_project):
    run(installed_project, "make", "lint")
    run(installed_project, "make", "typecheck")
    tests = run(installed_project, "make", "test")
    assert " passed" in tests.stdout


def test_cli_runs_without_make(installed_project):
    package = installed_project.name
    result = run(installed_project, f".venv/bin/{package}", "--help")
    assert "promote" in result.stdout
