"""Ask a running prediction service to reload its model: the client side of POST /admin/reload."""

import time
from typing import Any

import httpx2


# No Error suffix: the names are the contract that the jobs moving @champion import.
class ServiceUnreachable(RuntimeError):  # noqa: N818
    """Nothing answered at the service's URL (not started, wrong port, or it went away)."""


class ReloadRefused(RuntimeError):  # noqa: N818
    """The service refused the new model (409) and keeps serving the old one; the message is its reason."""


def request_reload(url: str, api_key: str | None, timeout: float = 60.0) -> dict[str, Any]:
    """POST /admin/reload and return the service's answer: status, previous_version, version, model_uri.

    The service answers within a second; while the new model still loads that answer is 202 with a `location`,
    which this asks until the outcome comes (each ask waits up to half a second on the service's side), for at
    most `timeout` seconds. A 404 there means another worker answered (the connection was lost): posting again is
    safe (a reload has no argument, and one in flight is joined). Raises ServiceUnreachable when nothing listens,
    ReloadRefused on 409, httpx2.HTTPStatusError on any other error, httpx2.TimeoutException after `timeout`.
    """
    headers = {"X-API-Key": api_key} if api_key else {}
    deadline = time.monotonic() + timeout
    try:
        # One client, so one kept-alive connection: with `serve --workers N` the GETs reach the worker that took
        # the POST (a new connection could reach another one, which knows no such reload).
        with httpx2.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout) as client:
            response = client.post("/admin/reload")
            while response.status_code == httpx2.codes.ACCEPTED:
                if time.monotonic() > deadline:
                    raise httpx2.TimeoutException(f"the service at {url} was still reloading after {timeout:g} s")
                response = client.get(response.json()["location"])
                if response.status_code == httpx2.codes.NOT_FOUND:
                    response = client.post("/admin/reload")
    except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
        raise ServiceUnreachable(f"no service answers at {url}: {type(exc).__name__}") from exc
    if response.status_code == httpx2.codes.CONFLICT:
        raise ReloadRefused(str(_detail(response)))
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def _detail(response: httpx2.Response) -> Any:
    """The `detail` of a FastAPI error answer, or the raw text when the body is not that JSON."""
    try:
        body = response.json()
    except ValueError:
        return response.text
    return body.get("detail", response.text) if isinstance(body, dict) else response.text
