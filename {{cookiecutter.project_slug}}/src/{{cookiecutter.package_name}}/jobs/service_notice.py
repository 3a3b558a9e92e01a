"""After @champion moved: tell a service running on this machine to serve it, or say how a running one picks it up."""

import os

import httpx2

from ..core.api_keys import secret_for
from ..io.service_admin import ReloadRefused, ServiceUnreachable, request_reload
from ..settings import Settings

DEFAULT_API_PORT = 8000  # `serve --port`'s default, which API_PORT overrides (README: Ports)
WHY_503 = ": it could not read the registry (is MLFLOW_TRACKING_URI the same for both?)"


def local_service_url() -> str:
    """Where `make serve` listens: 127.0.0.1 on API_PORT, read as `serve` reads it."""
    return f"http://127.0.0.1:{os.environ.get('API_PORT', DEFAULT_API_PORT)}"


def tell_running_service(settings: Settings) -> str:
    """Reload the service answering on 127.0.0.1:API_PORT and return one line saying what it answered; when nothing
    answers there, a line saying how a running service picks the new champion up. Never raises for the service's sake:
    the registry has already moved, and a service that is down or refuses must not turn that into a failure."""
    url = local_service_url()
    api_key = secret_for(settings.service_keys(), "admin")
    try:
        answer = request_reload(url, api_key)
    except ServiceUnreachable:
        return (
            f"no service answers on {url}; a running one serves the new champion after POST /admin/reload "
            "(with its X-API-Key), or by itself within MODEL_POLL_SECONDS when that is set"
        )
    except ReloadRefused as refused:
        return f"the service on {url} refused the new champion and keeps serving its model: {refused}"
    except httpx2.HTTPStatusError as error:
        code = error.response.status_code
        wrong_key = ": it expects another key (API_KEYS needs one with the admin scope, or API_KEY)"
        why = {401: wrong_key, 403: wrong_key, 503: WHY_503}.get(code, "")
        return f"the service on {url} answered {code} to POST /admin/reload and keeps serving its model{why}"
    except httpx2.HTTPError as error:
        return f"the service on {url} did not finish POST /admin/reload ({type(error).__name__}): it keeps its model"
    version, previous = answer.get("version"), answer.get("previous_version")
    if answer.get("status") == "reloaded":
        return f"the service on {url} reloaded without a restart: it now serves version {version} (was {previous})"
    return f"the service on {url} already serves version {version}: nothing to reload"
