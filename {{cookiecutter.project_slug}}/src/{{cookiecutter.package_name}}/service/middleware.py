"""Pure ASGI middlewares: request ids with access logs, a body size limit and the API keys."""

import logging
import re
import secrets
import time
from typing import Any

import orjson
from fastapi import HTTPException, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.api_keys import AccessRule, Refusal
from .logs import REQUEST_ID

access_log = logging.getLogger("service.access")
# A client-chosen id is echoed and logged only if it is short and plain, so it cannot forge log lines.
VALID_REQUEST_ID = re.compile(r"^[\w.:-]{1,128}$")


def header(scope: Scope, name: bytes) -> bytes:
    """The first value of a (lower-case) request header, or b"" (no dict built per request)."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return b""


async def send_json(send: Send, status_code: int, content: Any, headers: list[tuple[bytes, bytes]]) -> None:
    body = orjson.dumps(content)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Take X-Request-ID from the client (or make one), echo it in the response and log one JSON line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = header(scope, b"x-request-id").decode("latin-1")
        request_id = sent if VALID_REQUEST_ID.match(sent) else secrets.token_hex(16)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status_code = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            method, path = scope["method"], scope["path"]
            fields = {"method": method, "path": path, "status": status_code, "duration_ms": round(seconds * 1000, 3)}
            access_log.info("request", extra={"fields": fields})
            REQUEST_ID.reset(token)


class BodySizeLimitMiddleware:
    """413 for a body over `max_bytes`: at once from Content-Length, or as soon as a streamed body passes it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        if declared.isdigit() and not header(scope, b"transfer-encoding"):
            # The server frames the body by Content-Length (HTTP/1.1): it delivers no more bytes than declared.
            await self.app(scope, receive, send)
            return
        # A chunked body, or one declaring both (framed by Transfer-Encoding, if a server accepts it): count its bytes.
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                # FastAPI lets an HTTPException raised while reading the body through as the response.
                raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, self._detail())
            return message

        await self.app(scope, limited_receive, send)

    def _detail(self) -> str:
        return f"request body exceeds {self.max_bytes} bytes (MAX_BODY_BYTES)"

    async def _reject(self, send: Send) -> None:
        await send_json(send, status.HTTP_413_CONTENT_TOO_LARGE, {"detail": self._detail()}, [])


def route_path(scope: Scope) -> str:
    """The path the app routes on: scope["path"] without the ASGI root_path (uvicorn --root-path puts the prefix in
    both), so that a prefix can never make /admin look like /predict. Starlette's router strips it the same way."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path) and path[len(root_path) : len(root_path) + 1] in ("", "/"):
        return path[len(root_path) :] or "/"
    return path


class ApiKeyMiddleware:
    """Let a request through only as core/api_keys.py's AccessRule says (401 without a right key, 403 without the
    route's scope), and put its caller's name in the ASGI scope's state, which feedback records as its source.

    Protecting by default means a route added later is never public by mistake; the OpenAPI schema documents the
    header on every non-public operation (see openapi.py). Both serving modes sit behind this one middleware.
    """

    def __init__(self, app: ASGIApp, rule: AccessRule) -> None:
        self.app = app
        self.rule = rule

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        caller = self.rule.caller(route_path(scope), header(scope, b"x-api-key"))
        if isinstance(caller, Refusal):
            extra = [(b"www-authenticate", b"API-Key")] if caller.status == status.HTTP_401_UNAUTHORIZED else []
            await send_json(send, caller.status, {"detail": caller.detail}, extra)
            return
        # request.state.caller, deps.CallerDep: who sent the request, never anything the client writes in a body.
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)
