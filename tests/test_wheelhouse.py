"""An offline room: `make wheelhouse` on a bake, then `make install WHEELHOUSE=...` with every index unreachable."""

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
from cookiecutter.main import cookiecutter

from tests.options import TEMPLATE

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, so any attempt to use the network fails fast


def bake(out: Path) -> Path:
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=out))


def load_wheelhouse_tool(project: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("wheelhouse", project / "tools" / "wheelhouse.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_platform_gets_the_lock_pins_its_markers_select(tmp_path):
    project = bake(tmp_path)
    tool = load_wheelhouse_tool(project)
    lock = project / "requirements.lock"
    windows = {pin.split("==")[0] for pin in tool.locked_requirements(lock, tool.Target("windows", "3.11"))}
    linux = {pin.split("==")[0] for pin in tool.locked_requirements(lock, tool.Target("linux", "3.12"))}
    assert {"pywin32", "waitress", "tzdata"} <= windows
    assert not {"uvloop", "gunicorn"} & windows
    assert {"uvloop", "gunicorn"} <= linux
    assert not {"pywin32", "waitress"} & linux
    numpy_311 = [
        pin for pin in tool.locked_requirements(lock, tool.Target("linux", "3.11")) if pin.startswith("numpy==")
    ]
    numpy_312 = [
        pin for pin in tool.locked_requirements(lock, tool.Target("linux", "3.12")) if pin.startswith("numpy==")
    ]
    assert len(numpy_311) == len(numpy_312) == 1  # one pin each, from the lock's python_full_version markers
    with pytest.raises(ValueError, match="unsupported marker"):
        tool.marker_holds("platform_machine ~= 'x86'", tool.Target("linux", "3.11").environment())


def offline_env(home: Path) -> dict[str, str]:
    """The environment of a laptop in a room without network: no uv on the PATH (so `make install` bootstraps it
    from the wheelhouse with pip), no pip configuration, and every index and proxy pointing at a closed port."""
    path = [folder for folder in os.environ["PATH"].split(os.pathsep) if not (Path(folder) / "uv").exists()]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PIP_", "UV_", "VIRTUAL_ENV"))}
    return env | {
        "PATH": os.pathsep.join(path),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_INDEX_URL": f"{UNREACHABLE}/simple",
        "PIP_NO_CACHE_DIR": "1",
        "UV_OFFLINE": "1",
        "UV_INDEX_URL": f"{UNREACHABLE}/simple",
        "UV_DEFAULT_INDEX": f"{UNREACHABLE}/simple",
        # An empty cache: every wheel installed must come from the wheelhouse, not from an earlier install.
        "UV_CACHE_DIR": str(home / "uv-cache"),
        "UV_PYTHON_DOWNLOADS": "never",
        "HTTP_PROXY": UNREACHABLE,
        "HTTPS_PROXY": UNREACHABLE,
        "ALL_PROXY": UNREACHABLE,
        "NO_PROXY": "",
    }


def run(project: Path, *command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


@pytest.mark.slow
@pytest.mark.xdist_group("wheelhouse")
def test_a_linux_wheelhouse_installs_the_project_with_no_index(tmp_path):
    if shutil.which("make") is None or not sys.platform.startswith("linux"):
        pytest.skip("builds and installs a Linux wheelhouse with make")
    project = bake(tmp_path / "bake")
    wheelhouse = tmp_path / "wheelhouse"
    started = time.monotonic()
    run(project, "make", "wheelhouse", f"WHEELHOUSE={wheelhouse}", "PLATFORMS=linux", "PYTHONS=3.11")
    built_s = time.monotonic() - started
    files = list(wheelhouse.iterdir())
    assert files and all(file.suffix == ".whl" for file in files)  # wheels only: nothing to compile in the room
    names = {file.name.split("-")[0].lower() for file in files}
    assert {"hatchling", "editables", "uv", "mlflow", "fastapi_offline"} <= names

    started = time.monotonic()
    run(project, "make", "install", f"WHEELHOUSE={wheelhouse}", env=offline_env(tmp_path))
    installed_s = time.monotonic() - started
    package = project.name
    run(project, ".venv/bin/python", "-c", f"import {package}.service.app")
    assert "promote" in run(project, f".venv/bin/{package}", "--help").stdout
    size_mb = sum(file.stat().st_size for file in files) / 1e6
    print(f"wheelhouse: {len(files)} wheels, {size_mb:.0f} MB, built in {built_s:.0f} s")
    print(f"offline make install: {installed_s:.0f} s")
