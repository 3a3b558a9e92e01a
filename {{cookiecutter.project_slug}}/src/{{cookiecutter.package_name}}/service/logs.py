"""Structured JSON logs, one object per line, each carrying the id of the request being served."""

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, request_id, plus the dict passed as `extra={"fields": {...}}`."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get(),
        }
        payload.update(getattr(record, "fields", {}))
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(payload, default=str).decode()


class StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to sys.stdout as it is when a line is logged, not as it was when the handler was made.

    logging's own last-resort handler does the same for stderr. It matters when one process makes several apps:
    a test run replaces sys.stdout for each test and closes the old one, and a handler holding the first would
    print a "Logging error" traceback on the next test's stderr.
    """

    def __init__(self) -> None:
        logging.Handler.__init__(self)  # not StreamHandler's, which would store a stream

    @property
    def stream(self) -> Any:
        return sys.stdout


def configure_logging(level: str = "INFO") -> None:
    """Send every logger (uvicorn's too) to stdout as JSON; idempotent, so app factories can call it freely."""
    # Our lines carry none of the caller's file and line, thread or process: the logging HOWTO's "Optimization"
    # section turns their collection off (https://docs.python.org/3/howto/logging.html#optimization): with one
    # access line per request, collecting them is a visible share of a micro-batched prediction.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None
    root = logging.getLogger()
    if not any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        handler = StdoutHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    # Our middleware writes one access line per request, with the request id; uvicorn's own would repeat it. Without
    # a handler, uvicorn does not build its line at all (as with --no-access-log): disabling the logger would not
    # spare the formatting of the client address and the quoted path it does first, for every response.
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = False
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
