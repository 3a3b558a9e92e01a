"""prometheus-fastapi-instrumentator's default HTTP metrics, recorded by a pure ASGI middleware.

The instrumentator's middleware builds a Request, matches the route a second time and makes a Response and an Info
object per request, which costs a noticeable share of a micro-batched prediction (docs/performance.md). This one
reads the route the router left in the scope and the sizes from the headers, and records the same series: the names,
labels, buckets and summaries of `prometheus_fastapi_instrumentator.metrics.default()`, with status codes grouped
("2xx") and unmatched paths under the handler "none", as the instrumentator does by default.
"""

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, Summary
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..middleware import header

# The instrumentator's default buckets (prometheus_fastapi_instrumentator.metrics.default).
HIGHR_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 7.5, 10, 30, 60)
LOWR_BUCKETS = (0.1, 0.5, 1)


class HttpMetrics:
    """The five default series; label children are cached per key rather than looked up on every request."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.total = Counter(
            "http_requests_total",
            "Total number of requests by method, status and handler.",
            ["method", "status", "handler"],
            registry=registry,
        )
        self.in_size = Summary(
            "http_request_size_bytes", "Content length of incoming requests by handler.", ["handler"], registry=registry
        )
        self.out_size = Summary(
            "http_response_size_bytes",
            "Content length of outgoing responses by handler.",
            ["handler"],
            registry=registry,
        )
        self.highr = Histogram(
            "http_request_duration_highr_seconds",
            "Latency with many buckets but no API specific labels.",
            buckets=HIGHR_BUCKETS,
            registry=registry,
        )
        self.lowr = Histogram(
            "http_request_duration_seconds",
            "Latency with only few buckets by handler.",
            ["method", "handler"],
            buckets=LOWR_BUCKETS,
            registry=registry,
        )
        self._children: dict[tuple[str, str, str], tuple[Counter, Summary, Summary, Histogram]] = {}

    def observe(self, handler: str, method: str, status: int, seconds: float, size_in: int, size_out: int) -> None:
        key = (method, f"{status // 100}xx", handler)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.total.labels(*key),
                self.in_size.labels(handler),
                self.out_size.labels(handler),
                self.lowr.labels(method, handler),
            )
        total, in_size, out_size, lowr = children
        total.inc()
        in_size.observe(size_in)
        out_size.observe(size_out)
        self.highr.observe(seconds)
        lowr.observe(seconds)


class HttpMetricsMiddleware:
    """Time every request but the `unmeasured` paths and record it in HttpMetrics once the response has started."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, unmeasured: frozenset[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.unmeasured = unmeasured

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.unmeasured:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status, size_out = 500, 0

        async def send_and_note(message: Message) -> None:
            nonlocal status, size_out
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers", []):
                    if key.lower() == b"content-length":
                        size_out = int(value)
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            # The router leaves the matched route in the scope: its path template keeps the label values few.
            handler = getattr(scope.get("route"), "path", "none")
            size_in = header(scope, b"content-length")
            seconds = time.perf_counter() - started
            method = scope["method"]
            self.metrics.observe(handler, method, status, seconds, int(size_in) if size_in.isdigit() else 0, size_out)
