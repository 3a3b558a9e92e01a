"""Which version MODEL_URI names now, asked cheaply: one REST call to an MLflow server, without importing MLflow.

The registry poll (MODEL_POLL_SECONDS) looks often and almost always finds the alias where it was. Loading the
model to learn its version costs a fresh Python importing MLflow in fast mode (docs/performance.md, "Model
reloads"); asking the server costs one small HTTP request. The answer is only a shortcut: None means "ask MLflow",
and the caller then loads MODEL_URI as usual, with every option MLflow's own client supports.
"""

import os
from typing import Any

import httpx2

from ..core.model_uri import parse_model_uri

# A registry that does not answer quickly is treated as unknown: the full load that follows reports the reason.
TIMEOUT_S = 10.0


def registry_version(tracking_uri: str, model_uri: str) -> str | None:
    """The version MODEL_URI names now, or None when only MLflow itself can tell (a local store, an error)."""
    name, alias, version = parse_model_uri(model_uri)
    if alias is None:
        return str(version)  # pinned: models:/name/3 names version 3, whatever the registry holds
    if not tracking_uri.startswith(("http://", "https://")):
        return None  # a file or database store: reading it is MLflow's business
    # MLflow's REST API, as its client calls it: GET registered-models/alias (MLflow 2.3 and later).
    url = f"{tracking_uri.rstrip('/')}/api/2.0/mlflow/registered-models/alias"
    try:
        response = httpx2.get(url, params={"name": name, "alias": alias}, timeout=TIMEOUT_S, **credentials())
        if response.status_code != httpx2.codes.OK:
            return None
        return str(response.json()["model_version"]["version"])
    except (httpx2.HTTPError, ValueError, KeyError, TypeError):
        return None


def credentials() -> dict[str, Any]:
    """httpx2's arguments for the credentials MLflow's client reads from the environment (token, or user and password).

    A server that wants anything else answers 401, and the caller falls back to MLflow's own client.
    """
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return {"headers": {"Authorization": f"Bearer {token}"}}
    user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if user and password:
        return {"auth": (user, password)}  # HTTP basic authentication
    return {}
