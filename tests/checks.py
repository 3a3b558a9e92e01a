"""Checks every bake must pass: no template syntax left, every config file parses, ruff is clean."""

import configparser
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

# cookiecutter-django's regex: any of these in a baked text file means a variable was not rendered. A tag's end is
# ` %}` or `-%}`; a bare `%}` is also how a Python percentage format ends (`f"{share:.0%}"`), which is not a leftover.
LEFTOVER = re.compile(r"\{\{\s*cookiecutter\.|\{%|[\s-]%\}")
# "issue 23", "issues 13 and 16": the template's tracker, which means nothing in a project baked from it.
TEMPLATE_ISSUE = re.compile(r"\bissues? #?\d+", re.IGNORECASE)
RUFF = [sys.executable, "-m", "ruff"]


def baked_files(project: Path) -> list[Path]:
    return [p for p in project.rglob("*") if p.is_file() and ".git" not in p.relative_to(project).parts]


def lines_matching(project: Path, pattern: re.Pattern[str]) -> list[str]:
    """`path:line: text` for every line of a baked text file that `pattern` finds something in."""
    found = []
    for path in baked_files(project):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for line_number, line in enumerate(text.splitlines(), 1):
            if pattern.search(line):
                found.append(f"{path.relative_to(project)}:{line_number}: {line.strip()}")
    return found


def leftover_template_syntax(project: Path) -> list[str]:
    # GitHub Actions expressions use `${{ ... }}` and are copied unrendered on purpose.
    return lines_matching(project, LEFTOVER)


def template_history(project: Path) -> list[str]:
    """Lines that speak of the template's own issues: a baked project starts its own history."""
    return lines_matching(project, TEMPLATE_ISSUE)


def parse_config_files(project: Path) -> dict[str, object]:
    """Parse every TOML, YAML, JSON and .dvc/config file; raise on the first that does not parse."""
    parsed: dict[str, object] = {}
    for path in baked_files(project):
        relative = path.relative_to(project).as_posix()
        if path.suffix == ".toml":
            parsed[relative] = tomllib.loads(path.read_text(encoding="utf-8"))
        elif path.suffix in {".yaml", ".yml"}:
            parsed[relative] = yaml.safe_load(path.read_text(encoding="utf-8"))
        elif path.suffix == ".json":
            parsed[relative] = json.loads(path.read_text(encoding="utf-8"))
        elif relative == ".dvc/config":
            config = configparser.ConfigParser()
            config.read_string(path.read_text(encoding="utf-8"))
            parsed[relative] = config
    return parsed


def ruff(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUFF, *args, "--no-cache", "."], cwd=project, capture_output=True, text=True, check=False)


def tool(name: str) -> str:
    """A tool of the template's environment (beside this interpreter), or from the PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: it is in the template's requirements-dev.lock")
    return found
