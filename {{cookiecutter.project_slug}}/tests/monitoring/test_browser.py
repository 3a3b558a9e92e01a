"""Every page the service serves renders in a real browser: headless Chromium draws the reports, the trend, the card."""

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from {{ cookiecutter.package_name }}.service.app import create_app
from {{ cookiecutter.package_name }}.service.served_model import load_served_model

from .conftest import Loop
from .test_history import loop_settings
from conftest import serving_in_thread

pytestmark = [pytest.mark.slow, pytest.mark.posix]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def served(loop: Loop) -> Iterator[str]:
    """The loop's service with its model loaded (for /model/card), in this process where MLflow is imported already."""
    with serving_in_thread(create_app(loop_settings(loop), model_loader=load_served_model), lifespan="on") as url:
        yield url


def open_in_chromium(url: str, tmp_path: Path, name: str) -> tuple[str, Path]:
    """The page's DOM after its scripts ran, and a screenshot of it saved under tmp_path."""
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
    shot = tmp_path / f"{name}.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", url], check=True, capture_output=True, timeout=120)
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", url], check=True, capture_output=True, text=True, timeout=120)
    return dom.stdout, shot


def colours(shot: Path) -> int:
    found = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20)
    assert found is not None
    return len(found)


@pytest.mark.parametrize(("path", "title"), [("/monitoring", "Drift: "), ("/monitoring/quality", "Quality: ")])
def test_monitoring_reports_render_their_charts_in_chromium(served: str, tmp_path: Path, path: str, title: str) -> None:
    dom, shot = open_in_chromium(f"{served}{path}", tmp_path, "report")
    assert f"<title>{title}" in dom
    # The served HTML has an empty root element and the report as JSON; only the page's script fills the root.
    rendered = dom.split('id="root_', 1)[1].split("<script", 1)[0]
    assert "<svg" in rendered  # Plotly drew the charts
    if path == "/monitoring":
        assert "Dataset Drift" in rendered
        assert dom.count('class="trend-point" data-series="drift"') >= 2  # the loop monitored twice
    assert colours(shot) > 50  # text, tables and coloured charts, not a blank page


def test_three_monitoring_runs_draw_a_three_point_trend_in_chromium(loop: Loop, tmp_path: Path) -> None:
    from {{ cookiecutter.package_name }}.jobs import monitor

    settings = loop_settings(loop, monitoring_dir=tmp_path / "monitoring")
    summaries = [monitor.run(settings, loop.params, last=last) for last in (360, 180, 90)]
    assert None not in summaries
    # No lifespan: the monitoring pages read files and need no model.
    with serving_in_thread(create_app(settings), lifespan="off") as url:
        dom, shot = open_in_chromium(f"{url}/monitoring", tmp_path, "trend")
    trend = dom.split('<section id="monitoring-trend"', 1)[1].split("</section>", 1)[0]
    assert trend.count('class="trend-point" data-series="drift"') == 3
    # Every window of the loop has feedback, so every run has a quality point too.
    assert trend.count('class="trend-point" data-series="quality"') == 3
    assert f"{loop.params.promote.metric} on feedback" in trend
    assert "3 runs, " in trend
    assert colours(shot) > 50


def test_model_card_page_renders_in_chromium(served: str, tmp_path: Path) -> None:
    # Chromium asks for text/html, as any browser does: the card comes as a page without `?format=html`.
    dom, shot = open_in_chromium(f"{served}/model/card", tmp_path, "card")
    assert "<title>Model card: " in dom
    for section in ("Model details", "Intended use", "Training data", "Evaluation", "Monitoring", "Lineage"):
        assert f"<h2>{section}</h2>" in dom
    assert "<table>" in dom and "<th>feature</th>" in dom
    assert colours(shot) > 5  # text and table borders on white
