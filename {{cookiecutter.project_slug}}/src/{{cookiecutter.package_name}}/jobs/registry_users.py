"""`registry create-user`: a user of the MLflow server's basic-auth app, as an editor (jobs) or read-only (service).

Run as the server's admin (MLFLOW_TRACKING_USERNAME=admin, MLFLOW_TRACKING_PASSWORD=its password). It goes through
MLflow's own client for the auth REST API (`mlflow.server.get_app_client("basic-auth")`). The password is generated
and printed once (nothing stores it here), or taken from the variable `--password-env` names, so that a stack's
secrets file can hold it before the user exists.

| Role        | Who                                   | What it gets                                                  |
|-------------|---------------------------------------|---------------------------------------------------------------|
| `editor`    | pipeline, retrain, promote, rollback  | EDIT on the project's experiment and registered model         |
| `read-only` | the prediction service, `history`     | nothing more than the server's default_permission (READ)      |
"""

import secrets
from dataclasses import dataclass
from typing import Literal

from ..io import tracking
from ..settings import Settings
from ..user_errors import UserError

Role = Literal["editor", "read-only"]


@dataclass(frozen=True)
class CreatedUser:
    username: str
    password: str
    role: Role
    granted: tuple[str, ...]


def create_user(settings: Settings, username: str, role: Role, password: str | None = None) -> CreatedUser:
    """Create `username` (with a generated password unless given); an editor also gets EDIT on the experiment and
    the registered model, which are created first when they do not exist yet."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from mlflow.server import get_app_client

    if not settings.mlflow_tracking_uri.startswith(("http://", "https://")):
        raise UserError(
            f"MLFLOW_TRACKING_URI is {settings.mlflow_tracking_uri}, a local store without logins: users exist "
            "only on an MLflow server running its basic-auth app (docs/team-stack.md, 'Registry login')"
        )
    experiment_id = tracking.connect(settings)  # as the admin: it exists from now on, whoever trains first
    auth = get_app_client("basic-auth", tracking_uri=settings.mlflow_tracking_uri)
    password = password or secrets.token_urlsafe(24)
    try:
        auth.create_user(username, password)
    except MlflowException as exc:
        if "RESOURCE_ALREADY_EXISTS" in str(exc.error_code):
            raise UserError(f"the MLflow server already has a user {username!r}: pick another name") from exc
        raise
    granted: tuple[str, ...] = ()
    if role == "editor":
        client = MlflowClient()
        if not client.search_registered_models(f"name = '{settings.model_name}'"):
            client.create_registered_model(settings.model_name)
        auth.grant_user_permission(username, "experiment", experiment_id, "EDIT")
        auth.grant_user_permission(username, "registered_model", settings.model_name, "EDIT")
        granted = (f"experiment {settings.mlflow_experiment}", f"registered model {settings.model_name}")
    return CreatedUser(username, password, role, granted)


def main(username: str, role: Role, password_env: str | None = None) -> int:
    import os

    from ..settings import get_settings

    password = None
    if password_env is not None:
        password = os.environ.get(password_env, "")
        if not password.strip():
            raise UserError(f"--password-env names {password_env}, which is unset or empty: set it, or leave it out")
    created = create_user(get_settings(), username, role, password)
    rights = f"EDIT on the {' and the '.join(created.granted)}" if created.granted else "read access"
    if password_env is not None:
        print(f"created {created.username} ({created.role}) with {rights}; its password is ${password_env}")
        return 0
    print(f"created {created.username} ({created.role}) with {rights}; its password, shown only now:")
    print(created.password)
    print(
        f"give it to its caller as MLFLOW_TRACKING_USERNAME={created.username} and MLFLOW_TRACKING_PASSWORD "
        "(in its environment, .env, deploy/.env or the Kubernetes Secret)"
    )
    return 0
