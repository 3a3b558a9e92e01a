"""A route class for the hot endpoints: the JSON body is parsed and validated by pydantic-core in one pass.

FastAPI's own handler decodes the body with the json module, validates the Python objects, then solves the route's
dependencies, on every request: together several times the cost of a micro-batched prediction. The OpenAPI schema
is still built from the endpoint's declared parameters, so /docs show the same request and response models.
"""

from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError

Endpoint = Callable[[Request, Any], Awaitable[Response]]
# What FastAPI's strict content-type check accepts as JSON.
JSON_MEDIA_TYPE = ("application/json", "+json")


def is_json(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type.startswith("application/") and media_type.endswith(JSON_MEDIA_TYPE)


def body_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors in FastAPI's shape: each location starts with "body"; a malformed body is not echoed."""
    errors: list[dict[str, Any]] = []
    for details in exc.errors(include_url=False):
        error: dict[str, Any] = {**details, "loc": ("body", *details["loc"])}
        if error["type"] == "json_invalid":
            error.pop("input", None)
        errors.append(error)
    return errors


class JsonBodyRoute(APIRoute):
    """For `async def endpoint(request: Request, body: <annotated type>) -> Response` routes without dependencies.

    The handler reads the body, validates it with one TypeAdapter built from the declared body parameter (its
    constraints included, such as a list's min and max length) and calls the endpoint with the validated value.
    Invalid input raises RequestValidationError, so the app's 422 handler answers as for any other route.
    Dependencies would not run here, so declaring one is refused at start-up rather than silently skipped.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        if self.dependant.dependencies or self.body_field is None:
            raise TypeError(f"{self.path}: JsonBodyRoute needs a JSON body parameter and no dependencies")
        field_info = self.body_field.field_info
        declared: Any = field_info.annotation
        if field_info.metadata:
            declared = Annotated[(declared, *field_info.metadata)]
        adapter: TypeAdapter[Any] = TypeAdapter(declared)
        endpoint: Endpoint = self.endpoint

        async def handle(request: Request) -> Response:
            if not is_json(request.headers.get("content-type")):
                error = {"type": "content_type", "loc": ("body",), "msg": "Content-Type must be application/json"}
                raise RequestValidationError([error])
            try:
                value = adapter.validate_json(await request.body())
            except ValidationError as exc:
                raise RequestValidationError(body_errors(exc)) from None
            return await endpoint(request, value)

        return handle
