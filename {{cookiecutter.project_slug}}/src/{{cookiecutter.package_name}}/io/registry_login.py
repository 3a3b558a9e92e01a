"""The registry login and retry policy, handed to MLflow's client, which reads both from the environment.

Light on purpose (no MLflow import): the service's parent process calls it before fast mode's child loads the model.
"""

import os

from ..settings import Settings


def use_login(settings: Settings) -> None:
    """Hand the registry login and the retry policy to MLflow's client, which reads both from the environment.

    MLFLOW_TRACKING_USERNAME / _PASSWORD may come from `.env`, which only Settings reads. MLflow's default retries
    (7, doubling) keep a command waiting about four minutes on a server that is down; three, a second apart and
    doubling, give up within ten seconds with one sentence (io/registry_errors.py). Set either variable to override.
    """
    if settings.mlflow_tracking_username and settings.mlflow_tracking_password:
        os.environ.setdefault("MLFLOW_TRACKING_USERNAME", settings.mlflow_tracking_username)
        os.environ.setdefault("MLFLOW_TRACKING_PASSWORD", settings.mlflow_tracking_password.get_secret_value())
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
