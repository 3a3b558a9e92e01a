"""An MLflow server that refuses the login or does not answer, put into one sentence (user_errors.py prints it).

MLflow's client reports both as an MlflowException whose text is a page of HTTP detail. Every command that talks to
the registry ends in `user_errors.reported`, which asks `as_user_error` here before calling anything unexpected.
"""

import os
import sys

from ..user_errors import UserError

LOGIN_VARIABLES = "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
LOGIN_DOCS = "docs/team-stack.md, 'Registry login'"
# The text MLflow's REST client puts in an MlflowException when no HTTP answer came back (rest_utils.http_request).
NO_ANSWER_MARKS = ("Max retries exceeded", "Connection refused", "Failed to establish a new connection", "timed out")


def as_user_error(error: BaseException) -> UserError | None:
    """The sentence for an MLflow server's refusal (401, 403) or silence, or None for any other error."""
    mlflow_exceptions = sys.modules.get("mlflow.exceptions")
    if mlflow_exceptions is None or not isinstance(error, mlflow_exceptions.MlflowException):
        return None  # MLflow was never imported, so this is not its failure
    server = os.environ.get("MLFLOW_TRACKING_URI") or _tracking_uri()
    code = str(getattr(error, "error_code", ""))
    text = str(error)
    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    if code == "UNAUTHENTICATED" or "error code 401" in text:
        if user:
            return UserError(
                f"the MLflow server at {server} refused the login of MLFLOW_TRACKING_USERNAME={user}: check "
                f"MLFLOW_TRACKING_PASSWORD, or ask its admin to create that user ({LOGIN_DOCS})"
            )
        return UserError(
            f"the MLflow server at {server} asks for a login: set {LOGIN_VARIABLES} (in the environment or .env) "
            f"to a user of its basic-auth app ({LOGIN_DOCS})"
        )
    if is_permission_denied(error):
        return UserError(
            f"the MLflow server at {server} does not let {user or 'this user'} do that: a job that registers or "
            f"moves an alias needs EDIT on the registered model and its experiment; ask its admin to run "
            f"`registry create-user {user or 'NAME'} --editor` ({LOGIN_DOCS})"
        )
    if "failed with exception" in text and any(mark in text for mark in NO_ANSWER_MARKS):
        return UserError(
            f"the MLflow server at {server} does not answer, so this step stopped: start the server (or check "
            "MLFLOW_TRACKING_URI) and run the same command again"
        )
    return None


def is_permission_denied(error: BaseException) -> bool:
    """Whether an MLflow server refused the login the right to do it (403), rather than the login or an answer."""
    return str(getattr(error, "error_code", "")) == "PERMISSION_DENIED" or "error code 403" in str(error)


def _tracking_uri() -> str:
    mlflow = sys.modules.get("mlflow")
    return str(mlflow.get_tracking_uri()) if mlflow is not None else "MLFLOW_TRACKING_URI"
