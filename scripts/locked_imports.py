"""Write the top-level import names of the generated project's locked packages into hooks/pre_gen_project.py.

A package named like one of them (`orjson`, `psutil`, `anyio`) would be imported instead of that dependency. The
names come from the wheels themselves: every pin of requirements.lock is installed without dependencies into a
temporary folder (uv, from its cache), and the first part of each file path in the wheels' RECORD is a name that
`import` can find. The hook must stay offline and fast, so it carries the result as a literal, with a digest of the
pins it was derived from; tests/test_hooks.py fails when the lock has changed since. `make lock` runs this.
"""

import csv
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
LOCK = TEMPLATE / "{{cookiecutter.project_slug}}" / "requirements.lock"
HOOK = TEMPLATE / "hooks" / "pre_gen_project.py"
# The lines of the hook that this script owns, between these two markers.
BEGIN = "# BEGIN locked imports: written by scripts/locked_imports.py (make lock); do not edit by hand."
END = "# END locked imports"
IMPORTABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MODULE_SUFFIXES = (".py", ".so", ".pyd")
# What `--target` installs besides importable code: console scripts and a wheel's data files.
SCHEME_FOLDERS = {"bin", "Scripts", "include", "share", "etc"}
# Where each pin is installed to read its wheel: the first target whose environment its marker holds in. The lock's
# markers name Windows (pywin32, waitress, tzdata) and Python 3.12 (newer numpy, scipy); the lock itself is universal.
TARGETS = (
    (("--python-platform", "linux", "--python-version", "3.11"), {"sys_platform": "linux", "python_version": "3.11"}),
    (("--python-platform", "windows", "--python-version", "3.12"), {"sys_platform": "win32", "python_version": "3.12"}),
)


def pins(lock: Path = LOCK) -> list[str]:
    """Every requirement line of the lock (`name==version`, with its marker if any), in the lock's order."""
    lines = (line.strip() for line in lock.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def pins_digest(lock: Path = LOCK) -> str:
    """What the hook's list was derived from: the pins and their markers, not the lock's comments."""
    return hashlib.sha256("\n".join(pins(lock)).encode()).hexdigest()


def top_level_names(site: Path) -> set[str]:
    """The names `import` finds from what is installed in `site`, read from each wheel's RECORD: a top-level module
    (`six.py`, `_yaml.cpython-311-x86_64-linux-gnu.so`) or a folder holding one (`yaml/`, a namespace `google/`)."""
    names: set[str] = set()
    for record in site.glob("*.dist-info/RECORD"):
        with record.open(newline="", encoding="utf-8") as file:
            for path in (row[0] for row in csv.reader(file) if row):
                first, _, rest = path.partition("/")
                if first in SCHEME_FOLDERS or not path.endswith(MODULE_SUFFIXES):
                    continue
                name = first if rest else first.split(".", 1)[0]
                if IMPORTABLE.fullmatch(name):
                    names.add(name)
    return names


def locked_imports(lock: Path = LOCK) -> set[str]:
    """The top-level import names of every pin of the lock, from its wheel."""
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    by_target: list[list[str]] = [[] for _ in TARGETS]
    for pin in pins(lock):
        requirement, _, marker = pin.partition(";")
        index = next((i for i, (_, env) in enumerate(TARGETS) if holds(marker, env)), None)
        if index is None and "sys_platform == 'emscripten'" in marker:
            # A build for Python in a browser (httpx2's), which no bake installs: it shadows nothing a bake imports.
            continue
        if index is None:
            sys.exit(f"{pin}: its marker holds on none of the targets of scripts/locked_imports.py; add one")
        by_target[index].append(requirement.strip())
    names: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for index, ((flags, _), requirements) in enumerate(zip(TARGETS, by_target, strict=True)):
            target = Path(tmp) / f"target{index}"
            command = [uv, "pip", "install", "--quiet", "--no-deps", "--target", str(target), *flags]
            subprocess.run([*command, *requirements], check=True)
            names |= top_level_names(target)
    return names


def holds(marker: str, target: dict[str, str]) -> bool:
    """Whether a pin with this marker (or none) is installed in the target's environment (CPython)."""
    if not marker.strip():
        return True
    from packaging.markers import Marker  # packaging comes with the template's test tools

    environment = {
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "python_full_version": f"{target['python_version']}.0",
        "platform_system": {"linux": "Linux", "win32": "Windows"}[target["sys_platform"]],
        **target,
    }
    return bool(Marker(marker).evaluate(environment))


def hook_block(names: set[str], digest: str) -> str:
    # Lowercase as well: on a case-insensitive file system (macOS, Windows) `pil/` would shadow `PIL`.
    listed = sorted({name.lower() for name in names} | names)
    lines, line = [], "   "
    for name in listed:
        item = f' "{name}",'
        if len(line) + len(item) > 119:
            lines.append(line)
            line = "   "
        line += item
    lines.append(line)
    body = "\n".join(lines)
    return f'{BEGIN}\n# fmt: off\nLOCKED_PINS_SHA256 = "{digest}"\nLOCKED_IMPORTS = {{\n{body}\n}}\n# fmt: on\n{END}'


def main() -> None:
    hook = HOOK.read_text(encoding="utf-8")
    start, end = hook.index(BEGIN), hook.index(END) + len(END)
    block = hook_block(locked_imports(), pins_digest())
    HOOK.write_text(hook[:start] + block + hook[end:], encoding="utf-8")
    print(f"wrote {len(block.splitlines())} lines of locked imports into {HOOK.relative_to(TEMPLATE)}")


if __name__ == "__main__":
    main()
