"""The served report renders in a real browser: headless Chromium draws its charts from the embedded data."""

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from PIL import Image

from {{ cookiecutter.package_name }}.service.app import create_app

from .conftest import Loop

pytestmark = [pytest.mark.slow, pytest.mark.posix]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def served(loop: Loop) -> Iterator[str]:
    """The app on a real socket, without its lifespan: /monitoring reads files and needs no model."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(loop.settings), port=port, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_monitoring_page_renders_its_charts_in_chromium(served: str, tmp_path: Path) -> None:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required in CI (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,1600",
        # Let the page's scripts run and draw before the capture.
        "--virtual-time-budget=15000",
    ]
    shot = tmp_path / "report.png"
    url = f"{served}/monitoring"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", url], check=True, capture_output=True, timeout=120)
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", url], check=True, capture_output=True, text=True, timeout=120)
    assert "<title>Drift: " in dom.stdout
    # The served HTML has an empty root element and the report as JSON; only the page's script fills the root.
    rendered = dom.stdout.split('id="root_', 1)[1].split("<script", 1)[0]
    assert "Dataset Drift" in rendered
    assert "<svg" in rendered  # Plotly drew the charts
    colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None
    assert len(colours) > 50  # text, tables and coloured charts, not a blank page
