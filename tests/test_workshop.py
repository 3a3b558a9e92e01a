"""The instructor's guide (docs/workshop.md) holds together: its links resolve and the commands it quotes exist."""

import importlib.util
import re
from pathlib import Path

from tests.options import TEMPLATE

GUIDE = TEMPLATE / "docs" / "workshop.md"
PROJECT = TEMPLATE / "{{cookiecutter.project_slug}}"
CLI = PROJECT / "src" / "{{cookiecutter.package_name}}" / "cli.py"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
CODE = re.compile(r"```[a-z]*\n(.*?)```|`([^`\n]+)`", re.DOTALL)
# The packages of the bakes the guide talks about: the default one and the one `make demo` bakes.
PACKAGES = ("my_ml_product", "demo_product")


def quoted_code() -> str:
    """Every command the guide shows: fenced blocks (also inside the quoted message) and inline code."""
    text = re.sub(r"^> ?", "", GUIDE.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return "\n".join(block or inline for block, inline in CODE.findall(text))


def make_targets(makefile: Path) -> set[str]:
    return set(re.findall(r"^([a-zA-Z_-]+):", makefile.read_text(encoding="utf-8"), flags=re.MULTILINE))


def cli_commands() -> set[str]:
    source = CLI.read_text(encoding="utf-8")
    commands = {name.replace("_", "-") for name in re.findall(r"@app\.command\(\)\s*\ndef (\w+)", source)}
    return commands | set(re.findall(r'add_typer\(\w+, name="([\w-]+)"\)', source))


def test_template_readme_links_the_guide():
    assert "](docs/workshop.md)" in (TEMPLATE / "README.md").read_text(encoding="utf-8")


def test_every_relative_link_of_the_guide_resolves():
    links = [link for link in LINK.findall(GUIDE.read_text(encoding="utf-8")) if "://" not in link]
    assert links, "the guide links the template README and the generated pages"
    missing = [link for link in links if not (GUIDE.parent / link).resolve().exists()]
    assert not missing, f"docs/workshop.md links to files that do not exist: {missing}"


def test_every_make_target_the_guide_quotes_exists():
    quoted = set(re.findall(r"\bmake ([a-z][a-z-]*)", quoted_code()))
    assert {"demo", "install", "wheelhouse", "serve"} <= quoted
    known = make_targets(PROJECT / "Makefile") | make_targets(TEMPLATE / "Makefile")
    assert quoted <= known, f"targets in no Makefile: {sorted(quoted - known)}"


def test_every_cli_command_the_guide_quotes_exists():
    names = "|".join(PACKAGES)
    quoted = set(re.findall(rf"(?:\.venv/bin/)?\b(?:{names}) ([a-z][a-z-]*)", quoted_code()))
    assert "doctor" in quoted
    assert quoted <= cli_commands(), f"commands the CLI does not have: {sorted(quoted - cli_commands())}"


def test_the_wheelhouse_commands_name_real_platforms_and_the_real_script():
    code = quoted_code()
    assert "python tools/wheelhouse.py" in code
    spec = importlib.util.spec_from_file_location("wheelhouse_tool", PROJECT / "tools" / "wheelhouse.py")
    assert spec and spec.loader
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    script_lines = "\n".join(line for line in code.splitlines() if "tools/wheelhouse.py" in line)
    named = re.findall(r'PLATFORMS="([^"]+)"', code) + re.findall(r"--platform ((?:[a-z][a-z0-9-]* ?)+)", script_lines)
    platforms = {name for names in named for name in names.split()}
    assert {"linux", "macos", "windows"} <= platforms <= set(tool.PLATFORMS)
