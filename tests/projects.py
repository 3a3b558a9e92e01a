"""Baked, installed and trained projects that the slow tests share: each made once per xdist group in a session.

A group (`pytest.mark.xdist_group`) is the unit that `make test-slow` hands to one worker, so a project shared
inside a group is never baked twice, and tests of other groups, on the other worker, never touch it. Installing
is cheap (uv's cache: about 10 s); what is worth sharing is the training (`make pipeline`) and the waiting.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from tests.options import TEMPLATE

# A budget per command that catches a hang, not a slow machine: the classification project's own tests took 920 s
# on a loaded machine beside another worker (the old 900 s budget failed a landing), so they get more room.
COMMAND_TIMEOUT = 900
PROJECT_TESTS_TIMEOUT = 2400


def run(project: Path, *command: str, timeout: float = COMMAND_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run a command in the baked project; the template venv's bin (uv) is on the PATH, as after `make test`."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


class Projects:
    """The session's shared projects, by (group, answers): baked and `make install`ed, or also `make pipeline`d."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self._made: dict[tuple[str, str, tuple[tuple[str, str], ...]], Path] = {}

    def installed(self, group: str, **answers: str) -> Path:
        """A bake with these answers after its own `make install`, shared by the tests of `group`."""
        return self._once("installed", group, answers)

    def pipelined(self, group: str, **answers: str) -> Path:
        """The same after `make pipeline`: data ingested, a model trained, registered and promoted to @champion."""
        return self._once("pipelined", group, answers)

    def _once(self, stage: str, group: str, answers: dict[str, str]) -> Path:
        key = (stage, group, tuple(sorted(answers.items())))
        if key not in self._made:
            if shutil.which("git") is None or shutil.which("make") is None:
                pytest.fail("the slow tier needs git and make on the PATH")
            out = self._factory.mktemp(f"{group}-{stage}")
            project = Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(out)))
            run(project, "make", "install")
            if stage == "pipelined":
                run(project, "make", "pipeline")
            self._made[key] = project
        return self._made[key]
