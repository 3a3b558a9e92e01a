"""The OpenAPI schema with the API key (and its scope) documented on every operation that ApiKeyMiddleware protects."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ..core.api_keys import scope_needed
from .docs_ui import docs_ui_paths

SCHEME = "ApiKey"


def public_paths(app: FastAPI) -> frozenset[str]:
    """The probes and the documentation (its pages, assets and schema): open even when API_KEY is set."""
    docs = [app.docs_url, app.redoc_url, app.openapi_url, app.swagger_ui_oauth2_redirect_url]
    return frozenset({"/health", "/ready", *docs_ui_paths(), *(path for path in docs if path)})


def install_openapi(app: FastAPI, public: frozenset[str] | None) -> None:
    """Replace app.openapi (FastAPI's documented extension point) with one that adds the X-API-Key scheme to every
    path outside `public`; None when no API key is set (nothing to document)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            if public is not None:
                schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
                schemes[SCHEME] = {"type": "apiKey", "in": "header", "name": "X-API-Key"}
                for path, operations in schema.get("paths", {}).items():
                    if path not in public:
                        for operation in operations.values():
                            operation["security"] = [{SCHEME: []}]
                            responses = operation.setdefault("responses", {})
                            responses["401"] = {"description": "Missing or wrong X-API-Key"}
                            needed = scope_needed(path)
                            if needed is not None and "403" not in responses:
                                responses["403"] = {"description": f"The key lacks the {needed} scope"}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
