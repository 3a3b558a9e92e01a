"""Ask a running prediction service to reload its model: the client side of POST /admin/reload."""

from typing import Any

import httpx


# No Error suffix: the names are the contract that the jobs moving @champion import.
class ServiceUnreachable(RuntimeError):  # noqa: N818
    """Nothing answered at the service's URL (not started, wrong port, or it went away)."""


class ReloadRefused(RuntimeError):  # noqa: N818
    """The service refused the new model (409) and keeps serving the old one; the message is its reason."""


def request_reload(url: str, api_key: str | None, timeout: float = 60.0) -> dict[str, Any]:
    """POST /admin/reload and return the service's answer: status, previous_version, version, model_uri.

    The timeout is generous because the service loads and checks the new model before it answers.
    Raises ServiceUnreachable when nothing listens, ReloadRefused on 409, httpx.HTTPStatusError on any other error.
    """
    headers = {"X-API-Key": api_key} if api_key else {}
    try:
        response = httpx.post(f"{url.rstrip('/')}/admin/reload", headers=headers, timeout=timeout)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise ServiceUnreachable(f"no service answers at {url}: {type(exc).__name__}") from exc
    if response.status_code == httpx.codes.CONFLICT:
        raise ReloadRefused(str(_detail(response)))
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def _detail(response: httpx.Response) -> Any:
    """The `detail` of a FastAPI error answer, or the raw text when the body is not that JSON."""
    try:
        body = response.json()
    except ValueError:
        return response.text
    return body.get("detail", response.text) if isinstance(body, dict) else response.text
