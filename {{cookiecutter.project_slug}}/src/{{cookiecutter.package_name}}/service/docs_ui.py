"""/docs (Swagger UI) and /redoc with their scripts and styles served by the service itself, so they work offline."""

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs-assets"
# FastAPI's own pages load these files from a CDN, so a room without internet (or behind a proxy) sees a blank page.
# The fastapi-offline package ships swagger-ui-dist's and ReDoc's files; only its folder is used here, the pages
# are FastAPI's documented self-hosting recipe ("Custom Docs UI Static Assets").
ASSETS_DIR = Path(str(files("fastapi_offline"))) / "static"
SWAGGER_JS = "swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui.css"
REDOC_JS = "redoc.standalone.js"
FAVICON = "favicon.png"
# Swagger UI sends public specs to an online validator for a badge; there is none offline.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}


def docs_ui_paths() -> frozenset[str]:
    """The pages and each asset: public even when API_KEY is set, as a browser sends no key for them."""
    assets = (f"{ASSETS_URL}/{name}" for name in (SWAGGER_JS, SWAGGER_CSS, REDOC_JS, FAVICON))
    return frozenset({DOCS_URL, REDOC_URL, *assets})


def install_docs_ui(app: FastAPI) -> None:
    """Add /docs, /redoc and the assets to an app built with docs_url=None and redoc_url=None."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        # root_path keeps the links right behind a reverse proxy that serves the app under a prefix.
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/{SWAGGER_JS}",
            swagger_css_url=f"{root}{ASSETS_URL}/{SWAGGER_CSS}",
            swagger_favicon_url=f"{root}{ASSETS_URL}/{FAVICON}",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/{REDOC_JS}",
            redoc_favicon_url=f"{root}{ASSETS_URL}/{FAVICON}",
            with_google_fonts=False,
        )
