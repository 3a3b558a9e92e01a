"""Download every wheel `make install` needs into one folder, for a room without network (docs/offline.md).

Runs with any Python >= 3.11 and nothing installed (only the standard library and pip):

    python tools/wheelhouse.py                                   # this machine, the project's Python
    python tools/wheelhouse.py ../wheelhouse --platform linux macos windows --python 3.11 3.12

then, on each laptop: `make install WHEELHOUSE=<folder or http://host:port/>` (no index is ever asked).
"""

import argparse
import operator
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
# pip's --platform tags and the sys_platform the lock's markers test. pip counts older macOS releases as compatible
# by itself but takes manylinux tags literally, so Linux lists every glibc from 2.28 (Debian 10, Ubuntu 18.10) down.
MANYLINUX = [*(f"manylinux_2_{minor}" for minor in range(28, 16, -1)), "manylinux2014", "manylinux2010", "manylinux1"]
PLATFORMS: dict[str, tuple[list[str], str]] = {
    "linux": ([f"{tag}_x86_64" for tag in MANYLINUX], "linux"),
    # manylinux2010 and manylinux1 predate ARM builds.
    "linux-arm64": ([f"{tag}_aarch64" for tag in MANYLINUX[:-2]], "linux"),
    "macos": (["macosx_13_0_arm64"], "darwin"),
    "macos-intel": (["macosx_13_0_x86_64"], "darwin"),
    "windows": (["win_amd64"], "win32"),
}
# `make install` bootstraps uv with pip when none is on the PATH, so the room needs its wheel too.
INSTALLER = "uv"
# The optional `spark` group (pyproject.toml) and what only it needs: `make install` leaves them out, so the wheelhouse
# does too (pyspark alone is a 400 MB source package); `make install-spark` offline needs them added by hand.
SPARK_ONLY = {"pyspark", "py4j"}
CLAUSE = re.compile(r"^\s*(\w+)\s*(==|!=|<=|>=|<|>)\s*'([^']*)'\s*$")
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
STRINGS = {"sys_platform", "implementation_name", "platform_python_implementation"}
MISSING = re.compile(r"No matching distribution found for (\S+)")


@dataclass(frozen=True)
class Target:
    """One platform and Python the wheelhouse serves; platform None means this machine's."""

    platform: str | None
    python: str

    def __str__(self) -> str:
        return f"{self.platform or 'this machine'} / Python {self.python}"

    def environment(self) -> dict[str, str]:
        """The values the lock's environment markers test, as they will be on the learner's laptop."""
        sys_platform = PLATFORMS[self.platform][1] if self.platform else sys.platform
        return {
            "sys_platform": sys_platform,
            "python_version": self.python,
            "python_full_version": f"{self.python}.0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
        }

    def pip_options(self) -> list[str]:
        # Wheels only: an sdist would need a compiler and a build backend on the learner's laptop.
        options = ["--only-binary=:all:", "--python-version", self.python, "--implementation", "cp"]
        tags = PLATFORMS[self.platform][0] if self.platform else []
        return options + [option for tag in tags for option in ("--platform", tag)]


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def clause_holds(clause: str, environment: dict[str, str]) -> bool:
    """One `name op 'value'` comparison: the only kind `uv pip compile --universal` writes into the lock."""
    match = CLAUSE.match(clause)
    if match is None or match[1] not in environment or (match[2] not in ("==", "!=") and match[1] in STRINGS):
        raise ValueError(f"unsupported marker {clause.strip()!r} in requirements.lock: download that package by hand")
    name, op, expected = match.groups()
    if name in STRINGS:
        return COMPARE[op](environment[name].lower(), expected.lower())
    return COMPARE[op](version(environment[name]), version(expected))


def marker_holds(marker: str, environment: dict[str, str]) -> bool:
    """`a and b or c`, with `and` binding tighter, as in PEP 508 (the lock has no parentheses)."""
    return any(
        all(clause_holds(clause, environment) for clause in alternative.split(" and "))
        for alternative in marker.split(" or ")
    )


def locked_requirements(lock: Path, target: Target) -> list[str]:
    """The lock's pins that apply to the target (the universal lock also holds other platforms' and Pythons'),
    less those only `make install-spark` installs."""
    pins = []
    for line in lock.read_text(encoding="utf-8").splitlines():
        requirement, _, marker = line.split("#", 1)[0].partition(";")
        if requirement.split("==")[0].strip() in SPARK_ONLY:
            continue
        if requirement.strip() and (not marker.strip() or marker_holds(marker, target.environment())):
            pins.append(requirement.strip())
    return pins


def build_requirements(pyproject: Path) -> list[str]:
    """The build backend (hatchling): the editable install of the project builds it, offline too."""
    requires: list[str] = tomllib.loads(pyproject.read_text(encoding="utf-8"))["build-system"]["requires"]
    # An editable install also asks hatchling for `editables`, which its own dependencies do not name.
    return [*requires, "editables"]


def download(requirements: list[str], target: Target, dest: Path, *, with_deps: bool) -> list[str]:
    """pip download, once for all; a requirement with no wheel for the target is left out and returned."""
    missing: list[str] = []
    remaining = list(requirements)
    while remaining:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--dest"]
        command += [str(dest), *target.pip_options(), *([] if with_deps else ["--no-deps"]), *remaining]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode == 0:
            break
        match = MISSING.search(result.stderr)
        if match is None:
            sys.exit(f"pip download failed for {target}:\n{result.stderr.strip()}")
        failed = match[1]
        # pip names the requirement as written, sometimes with its marker or quotes: match on the name and pin.
        dropped = [req for req in remaining if req.replace(" ", "") == failed.strip("'\"").replace(" ", "")]
        if not dropped:
            sys.exit(f"pip download failed for {target}:\n{result.stderr.strip()}")
        missing += dropped
        remaining = [req for req in remaining if req not in dropped]
    return missing


def build_pure_wheels(requirements: list[str], dest: Path) -> list[str]:
    """Build wheels here for packages published only as source; those that are pure Python (`-none-any`) install on
    every platform, the others stay missing (their laptops would need a compiler and the network)."""
    still_missing = []
    for requirement in requirements:
        with tempfile.TemporaryDirectory() as tmp:
            command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps"]
            built = subprocess.run([*command, "--wheel-dir", tmp, requirement], capture_output=True, text=True)
            wheels = list(Path(tmp).glob("*-none-any.whl"))
            if built.returncode != 0 or not wheels:
                still_missing.append(requirement)
            for wheel in wheels:
                shutil.copy2(wheel, dest / wheel.name)
    return still_missing


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("dest", nargs="?", type=Path, default=Path("wheelhouse"), help="folder (default: wheelhouse)")
    parser.add_argument("--platform", nargs="+", choices=sorted(PLATFORMS), help="default: this machine's")
    default_python = (PROJECT / ".python-version").read_text(encoding="utf-8").strip()
    parser.add_argument("--python", nargs="+", default=[default_python], help=f"default: {default_python}")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.dest.mkdir(parents=True, exist_ok=True)
    targets = [Target(platform, python) for platform in (args.platform or [None]) for python in args.python]
    incomplete: dict[Target, list[str]] = {}
    for target in targets:
        print(f"Downloading for {target} ...", flush=True)
        pins = locked_requirements(PROJECT / "requirements.lock", target)
        missing = download(pins, target, args.dest, with_deps=False)
        tools = [*build_requirements(PROJECT / "pyproject.toml"), INSTALLER]
        missing += download(tools, target, args.dest, with_deps=True)
        missing = build_pure_wheels(missing, args.dest)
        if missing:
            incomplete[target] = missing
    wheels = sorted(args.dest.glob("*.whl"))
    size_mb = sum(wheel.stat().st_size for wheel in wheels) / 1e6
    print(f"{len(wheels)} wheels, {size_mb:.0f} MB in {args.dest}")
    for target, missing in incomplete.items():
        print(f"No wheel for {target}: {', '.join(missing)}", file=sys.stderr)
    if incomplete:
        sys.exit("The wheelhouse is incomplete: laptops of those targets need the network (or a compiler) for them.")
    print(f"Install on each laptop with: make install WHEELHOUSE={args.dest}")


if __name__ == "__main__":
    main()
