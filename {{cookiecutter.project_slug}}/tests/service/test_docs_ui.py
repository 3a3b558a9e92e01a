"""/docs and /redoc load nothing from outside the service: a room without internet still sees the operations."""

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.settings import Settings

from .conftest import make_settings, serving_app
from conftest import serving_in_thread

KEY = "docs-ui-test-key"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Every URL a page's HTML names: attributes (ReDoc's spec-url too) and the quoted URLs of the inline script.
LINK = re.compile(r"""(?:src|href|spec-url)=["']([^"']+)["']|url:\s*["']([^"']+)["']""")


@pytest.fixture
def guarded(tracking_uri: str, tmp_path: Path) -> Iterator[TestClient]:
    """The app with an API key: the docs must stay readable by a browser that sends none."""
    settings = make_settings(tracking_uri, tmp_path / "docs.db", api_key=KEY)
    with TestClient(serving_app(settings)) as client:
        yield client


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_files_the_service_serves(guarded: TestClient, page: str) -> None:
    response = guarded.get(page)
    assert response.status_code == 200
    assert "http://" not in response.text
    assert "https://" not in response.text
    links = [first or second for first, second in LINK.findall(response.text)]
    # Paths on this service only: no scheme, and no protocol-relative "//host/..." either.
    assert all(link.startswith("/") and not link.startswith("//") for link in links), links
    assert "/openapi.json" in links
    assets = [link for link in links if link.startswith("/docs-assets/")]
    assert len(assets) >= 2  # the script and the favicon, plus the stylesheet for Swagger UI
    for asset in assets:
        served = guarded.get(asset)  # no X-API-Key, as a browser loading the page sends none
        assert served.status_code == 200, asset
        assert len(served.content) > 0


def test_docs_ui_assets_are_not_operations_of_the_api(guarded: TestClient) -> None:
    paths = guarded.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith(("/docs", "/redoc"))]


@pytest.fixture
def served(tracking_uri: str, tmp_path: Path) -> Iterator[str]:
    """The app on a real socket with its lifespan, so /openapi.json holds the model's predict routes."""
    settings: Settings = make_settings(tracking_uri, tmp_path / "browser.db", api_key=KEY)
    with serving_in_thread(serving_app(settings)) as url:
        yield url


@pytest.mark.slow
@pytest.mark.posix
@pytest.mark.parametrize("serving_mode", ["plain"], indirect=True)  # the page is the same in both modes
def test_docs_list_the_operations_in_chromium_without_network(served: str, tmp_path: Path) -> None:
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
        # No way out but 127.0.0.1: names other than it do not resolve, and anything else goes to a closed port.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1",
        # Let Swagger UI fetch the schema and draw the operations before the DOM is dumped.
        "--virtual-time-budget=15000",
    ]
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", f"{served}/docs"], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    drawn = set(re.findall(r'data-path="([^"]+)"', dom))
    assert {"/predict", "/predict/batch", "/feedback", "/health"} <= drawn
    assert "prediction service" in dom  # the schema's title, which only the script can have put there
