"""Slow tier: docs/lab.md of a fresh bake, run literally, block by block, with each step's checkpoint asserted.

The lab marks what a test cannot do as a learner does with an HTML comment right above a command block (invisible
once rendered): `<!-- lab: skip: <reason> -->`, `<!-- lab: second terminal -->` (started in the background and
stopped by PID at the end), `<!-- lab: break it, expect: <text> -->` (a "break it" exercise: it may fail, and its
output must contain the text). A step's checkpoint is the `doctor` output shown under "**Checkpoint**": every
`✓ <check>` there must be `ok` in `doctor --json`, every `· <check>` `todo`, every `✗ <check>` `broken`.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from tests.options import TEMPLATE
from tests.services import free_port, start, stop

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("lab")]

STEP = re.compile(r"^## Step (?P<number>\d+)\b.*$", re.MULTILINE)
MARKER = re.compile(r"<!-- lab: (?P<what>.+?) -->")
BLOCK = re.compile(
    r"^(?:(?P<marker><!-- lab: .+? -->)\n)?```(?P<lang>\w*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL
)
CHECKPOINT = re.compile(r"\*\*Checkpoint\*\*.*?```text\n(?P<lines>.*?)```", re.DOTALL)
STATUS = {"✓": "ok", "·": "todo", "✗": "broken"}
BLOCK_TIMEOUT = 900


@dataclass
class Block:
    body: str
    marker: str = ""

    @property
    def skipped(self) -> bool:
        return self.marker.startswith("skip:")

    @property
    def background(self) -> bool:
        return self.marker == "second terminal"

    @property
    def expected(self) -> str | None:
        """The text a "break it" block must print, or None for a block that must simply succeed."""
        match = re.fullmatch(r"break it, expect: (?P<text>.+)", self.marker)
        return match["text"] if match else None


@dataclass
class Step:
    number: int
    title: str
    blocks: list[Block] = field(default_factory=list)
    checkpoint: dict[str, str] = field(default_factory=dict)


def parse_lab(text: str) -> list[Step]:
    """The lab's steps in order: their bash blocks (with markers) and the statuses their checkpoint shows."""
    starts = list(STEP.finditer(text))
    steps = []
    for index, start_match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        section = text[start_match.start() : end]
        step = Step(int(start_match["number"]), start_match[0].removeprefix("## "))
        for match in BLOCK.finditer(section):
            marker = MARKER.fullmatch(match["marker"])["what"] if match["marker"] else ""
            if match["lang"] == "bash":
                step.blocks.append(Block(match["body"], marker))
            else:
                assert not marker, f"{step.title}: a marker above a {match['lang'] or 'plain'} block does nothing"
        if checkpoint := CHECKPOINT.search(section):
            for line in checkpoint["lines"].splitlines():
                if line[:1] in STATUS:
                    step.checkpoint[line[2:].split(":", 1)[0]] = STATUS[line[:1]]
        steps.append(step)
    return steps


def test_lab_parser_reads_markers_and_checkpoints():
    lab = (
        "## Step 1 — one\n\n```bash\nmake a\n```\n\n<!-- lab: second terminal -->\n```bash\nmake serve\n```\n\n"
        "<!-- lab: break it, expect: ✗ port -->\n```bash\nbreak\n```\n\n**Checkpoint**: `doctor` shows\n\n"
        "```text\n✓ pipeline: up to date\n· service: not running -> next: make serve\n```\n\n"
        "## Step 2 — two\n\n<!-- lab: skip: a browser -->\n```bash\nopen\n```\n"
    )
    first, second = parse_lab(lab)
    assert [b.body for b in first.blocks] == ["make a\n", "make serve\n", "break\n"]
    assert [b.background for b in first.blocks] == [False, True, False]
    assert first.blocks[2].expected == "✗ port"
    assert first.checkpoint == {"pipeline": "ok", "service": "todo"}
    assert second.blocks[0].skipped and second.checkpoint == {}


@pytest.fixture(scope="module")
def lab_project(tmp_path_factory):
    """A fresh bake with the template's defaults, as the lab's first step makes it."""
    if shutil.which("git") is None or shutil.which("make") is None or shutil.which("curl") is None:
        pytest.fail("the lab needs git, make and curl on the PATH")
    out = tmp_path_factory.mktemp("lab")
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=out))


def test_the_lab_runs_literally_on_a_fresh_bake(lab_project, tmp_path):
    project = lab_project
    steps = parse_lab((project / "docs" / "lab.md").read_text(encoding="utf-8"))
    assert 7 <= len(steps) <= 9, "the lab has 7 to 9 steps"
    assert [step.number for step in steps] == list(range(1, len(steps) + 1))
    # Each block runs as in a terminal where the venv is activated (the lab says so), on a free port so that a
    # service already on 8000 is left alone; the template venv's bin (uv) is on the PATH, as for `make install`.
    venv_bin = project / ".venv" / "bin"
    env = {**os.environ, "PATH": os.pathsep.join([str(venv_bin), str(Path(sys.executable).parent), os.environ["PATH"]])}
    env.pop("VIRTUAL_ENV", None)
    env["API_PORT"] = str(free_port())
    background: list[subprocess.Popen[bytes]] = []
    timings = []
    try:
        for step in steps:
            started = time.monotonic()
            for index, block in enumerate(step.blocks):
                where = f"{step.title}, block {index + 1}"
                if block.skipped:
                    continue
                if block.background:
                    log = tmp_path / f"step{step.number}-block{index + 1}.log"
                    background.append(start(["bash", "-c", block.body], log, env=env, cwd=project))
                    continue
                script = block.body if block.expected else "set -eo pipefail\n" + block.body
                result = subprocess.run(
                    ["bash", "-c", script], cwd=project, env=env, capture_output=True, text=True,
                    timeout=BLOCK_TIMEOUT, stdin=subprocess.DEVNULL,
                )  # fmt: skip
                output = result.stdout + result.stderr
                if block.expected:
                    assert block.expected in output, f"{where}: expected {block.expected!r} in:\n{output[-4000:]}"
                else:
                    assert result.returncode == 0, f"{where} failed:\n{block.body}\n{output[-4000:]}"
            if step.checkpoint:
                doctor = subprocess.run(
                    [str(venv_bin / project.name), "doctor", "--json"], cwd=project, env=env,
                    capture_output=True, text=True, timeout=120,
                )  # fmt: skip
                report = json.loads(doctor.stdout)
                found = {check["check"]: check["status"] for check in report["checks"]}
                wanted = {check: found.get(check) for check in step.checkpoint}
                assert wanted == step.checkpoint, f"{step.title}: doctor says {report['checks']}"
            timings.append(f"{step.title}: {time.monotonic() - started:.0f}s")
    finally:
        for process in background:
            stop(process)
        print("\n".join(timings))
