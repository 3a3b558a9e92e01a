"""A route class for the hot endpoints: the JSON body is parsed and validated by pydantic-core in one pass.

FastAPI's own handler decodes the body with the json module, validates the Python objects, then solves the route's
dependencies, on every request: together several times the cost of a micro-batched prediction. The OpenAPI schema
is still built from the endpoint's declared parameters, so /docs show the same request and response models.

The route reads FastAPI internals (`APIRoute.dependant`, `body_field.field_info`). If an upgrade changes them, the
route logs it at start and keeps FastAPI's standard handler, which gives the same answers, only slower.
"""

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError

logger = logging.getLogger("service")
Endpoint = Callable[[Request, Any], Awaitable[Response]]
# What FastAPI's strict content-type check accepts as JSON.
JSON_MEDIA_TYPE = ("application/json", "+json")


def is_json(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type.startswith("application/") and media_type.endswith(JSON_MEDIA_TYPE)


class JsonBodyRoute(APIRoute):
    """For `async def endpoint(request: Request, body: <annotated type>) -> Response` routes without dependencies.

    The handler reads the body, validates it with one TypeAdapter built from the declared body parameter (its
    constraints included, such as a list's min and max length) and calls the endpoint with the validated value.
    A body it refuses goes to FastAPI's standard handler, so a bad request gets FastAPI's own 422, word for word.
    Dependencies would not run here, so declaring one is refused at start-up rather than silently skipped.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        try:
            adapter: TypeAdapter[Any] = TypeAdapter(declared_body_type(self))
        except (AttributeError, TypeError) as exc:
            fields = {"path": self.path, "error": f"{type(exc).__name__}: {exc}"}
            logger.warning("one-pass JSON route unavailable, FastAPI's standard route serves", extra={"fields": fields})
            return super().get_route_handler()
        endpoint: Endpoint = self.endpoint
        standard = super().get_route_handler()

        async def handle(request: Request) -> Response:
            if is_json(request.headers.get("content-type")):
                try:
                    value = adapter.validate_json(await request.body())
                except ValidationError:
                    pass
                else:
                    return await endpoint(request, value)
            # The request caches its body: FastAPI's handler reads it again and answers with its exact errors.
            return await standard(request)

        return handle


def declared_body_type(route: APIRoute) -> Any:
    """The endpoint's body parameter type with its constraints, read from FastAPI's internals (AttributeError if an
    upgrade moved them); a route with dependencies or no body is a programming error (ValueError)."""
    if route.dependant.dependencies or route.body_field is None:
        raise ValueError(f"{route.path}: JsonBodyRoute needs a JSON body parameter and no dependencies")
    field_info = route.body_field.field_info
    declared: Any = field_info.annotation
    if field_info.metadata:
        declared = Annotated[(declared, *field_info.metadata)]
    return declared
