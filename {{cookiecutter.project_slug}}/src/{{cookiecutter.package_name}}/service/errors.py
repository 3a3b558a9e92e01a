"""422 responses that stay valid JSON when the rejected input itself was NaN or Infinity."""

import math
from typing import Any

from fastapi import Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def _finite(value: Any) -> Any:
    # FastAPI echoes the offending input in each error; a NaN there would turn the 422 into a 500 (strict JSON).
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 body ({"detail": [{"loc", "msg", "type", "input"}...]}), with non-finite numbers as text."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    content = jsonable_encoder({"detail": _finite(list(errors))})
    return JSONResponse(content, status.HTTP_422_UNPROCESSABLE_CONTENT)
