"""`doctor`: probe the machine and the project (each probe bounded in time) and say where a learner stands.

The verdicts live in core/doctor_checks.py; this module only looks. It loads no model and imports MLflow only when
a registry exists, and the slow probes (dvc status, the registry, the .venv) run side by side.
"""

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

import httpx2
from pydantic import ValidationError

from ..core.doctor_checks import (
    Check,
    champion_check,
    disk_check,
    exit_code,
    feedback_check,
    format_text,
    git_identity_check,
    installed_check,
    java_check,
    java_version,
    monitoring_check,
    pipeline_check,
    port_check,
    predictions_check,
    python_check,
    service_check,
    to_json,
)
from ..io.ports import PORTS, PROBE_SECONDS, configured_ports, port_holder
from ..settings import Settings, find_project_root, get_settings, refused_setting
from ..user_errors import UserError

DISTRIBUTION = "{{ cookiecutter.project_slug }}"
PACKAGE = __package__.split(".")[0] if __package__ else DISTRIBUTION
T = TypeVar("T")
DVC_SECONDS = 120.0
# io/monitoring_history.py's file, named again here because that module imports scikit-learn (see probe_monitoring).
HISTORY = "history.jsonl"


def run(command: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
    )


def probe_python(root: Path) -> Check:
    try:
        requires = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        requires = ">=3.11"
    return python_check(sys.version_info[:3], str(requires))


def probe_git_identity(root: Path) -> Check:
    if shutil.which("git") is None:
        return git_identity_check(False, None)
    idents = [run(["git", "var", name], root, PROBE_SECONDS) for name in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT")]
    if any(ident.returncode != 0 for ident in idents):
        return git_identity_check(True, None)
    # `Name <email> 1764170000 +0000`: the name and e-mail, without the time git appends.
    return git_identity_check(True, idents[0].stdout.rsplit(">", 1)[0] + ">")


def probe_port(variable: str, port: int, retry: str) -> Check:
    """retry: the command that starts the step with the port variable, its value left out (`make serve API_PORT=`)."""
    return port_check(variable, port, port_holder(variable, port), f"{retry}{port + 10}")


def probe_installed(root: Path) -> Check:
    venv = root / ".venv"
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    if not python.is_file():
        return installed_check(False, None, None, str(root))
    code = f"import importlib.metadata as m, {PACKAGE} as p; print(m.version({DISTRIBUTION!r})); print(p.__file__)"
    found = run([str(python), "-c", code], root, 30.0)
    if found.returncode != 0:
        return installed_check(True, None, None, str(root))
    version, location = [*found.stdout.splitlines(), "", ""][:2]
    return installed_check(True, version, str(Path(location).resolve()), str(root.resolve()))


def probe_java(root: Path) -> Check:
    """`java -version` of the Java pyspark would start (JAVA_HOME's, else the PATH's), and whether pyspark is here."""
    import importlib.util

    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    has_pyspark = importlib.util.find_spec("pyspark") is not None
    if java is None or not Path(java).exists():
        return java_check(None, has_pyspark)
    # Java prints its version on stderr.
    found = run([java, "-version"], root, 30.0)
    return java_check(java_version(found.stderr + found.stdout), has_pyspark)


def probe_pipeline(root: Path) -> Check:
    has_lock = (root / "dvc.lock").is_file()
    done = run([sys.executable, "-m", "dvc", "status", "--json"], root, DVC_SECONDS)
    if done.returncode != 0:
        return pipeline_check(None, has_lock, (done.stderr.strip().splitlines() or ["no message"])[-1])
    # DVC may print a notice before its JSON document, which is the last line.
    document = next((line for line in reversed(done.stdout.splitlines()) if line.startswith("{")), "{}")
    return pipeline_check(json.loads(document), has_lock)


def probe_champion(settings: Settings) -> tuple[Check, str | None]:
    """The version @champion (or MODEL_URI) names, without loading it: the registry's row and its files on disk."""
    from ..core.model_uri import parse_model_uri

    uri, model_uri = settings.mlflow_tracking_uri, settings.model_uri
    name, alias, pinned = parse_model_uri(model_uri)
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        return champion_check(model_uri, None, 0), None
    if uri.startswith(("http://", "https://")):
        # A server that does not answer must not hold doctor for MLflow's default retries and two-minute timeout.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(int(PROBE_SECONDS)))
        try:
            httpx2.get(f"{uri.rstrip('/')}/health", timeout=PROBE_SECONDS)
        except httpx2.HTTPError:
            return champion_check(model_uri, None, 0, server_down=uri), None
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(uri, registry_uri=uri)
    try:
        found = client.get_model_version_by_alias(name, alias) if alias else client.get_model_version(name, str(pinned))
    except MlflowException as error:
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        registered = 0 if alias is None else len(client.search_model_versions(f"name = '{name}'"))
        return champion_check(model_uri, None, registered), None
    location = urlparse(client.get_model_version_download_uri(name, found.version))
    missing = None
    if location.scheme in ("", "file"):
        folder = Path(unquote(location.path))
        missing = None if (folder / "MLmodel").is_file() else str(folder)
    return champion_check(model_uri, str(found.version), 1, missing_files=missing), str(found.version)


def probe_service(port: int) -> tuple[str, dict[str, Any] | None, int | None]:
    """GET /ready on 127.0.0.1:API_PORT: (url, its JSON when it is our service's, its HTTP status or None)."""
    url = f"http://127.0.0.1:{port}"
    try:
        answer = httpx2.get(f"{url}/ready", timeout=PROBE_SECONDS)
    except httpx2.HTTPError:
        return url, None, None
    try:
        body = answer.json()
    except ValueError:
        return url, None, answer.status_code
    return url, body if isinstance(body, dict) and "status" in body else None, answer.status_code


def probe_prediction_log(settings: Settings) -> tuple[Check, Check]:
    """Counts from the prediction log, read without migrating it (doctor never writes)."""
    from sqlalchemy import create_engine, func, inspect, select
    from sqlalchemy.exc import SQLAlchemyError

    from ..store.tables import Feedback, Prediction

    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return predictions_check(None), feedback_check(None, None)
    # Bounded waits: a locked SQLite file or an unreachable PostgreSQL answers within seconds.
    timeout = {"timeout": PROBE_SECONDS} if url.startswith("sqlite") else {"connect_timeout": int(PROBE_SECONDS)}
    engine = create_engine(url, connect_args=timeout)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(Prediction.__tablename__):
                return predictions_check(None), feedback_check(None, None)
            predictions = connection.scalar(select(func.count()).select_from(Prediction)) or 0
            answered = connection.scalar(select(func.count(func.distinct(Feedback.prediction_id)))) or 0
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        return predictions_check(None, reason), feedback_check(None, None, reason)
    finally:
        engine.dispose()
    return predictions_check(predictions), feedback_check(answered, predictions)


def probe_monitoring(settings: Settings) -> Check:
    """The newest complete line of reports/monitoring/history.jsonl.

    Read as plain JSON: the module of its model (HistoryEntry) imports scikit-learn, seconds for four fields. The test
    writes the file with io/monitoring_history.py, so the two cannot drift apart.
    """
    path = settings.monitoring_dir / HISTORY
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    for line in reversed(lines):
        try:
            entry = json.loads(line)
            created_at = datetime.fromisoformat(entry["created_at"])
            return monitoring_check(created_at, str(entry["model_version"]), entry["drift_share"], entry["breaches"])
        except (ValueError, KeyError, TypeError):
            continue  # a torn last line (a run still writing it) or a blank one
    return monitoring_check(None, None, None, [])


def _guarded(name: str, probe: Callable[[], T], fallback: Callable[[Check], T]) -> T:
    """Run a probe; one that fails unexpectedly is a broken line naming the error, not a traceback."""
    try:
        return probe()
    except ValidationError as error:
        # Settings refused the environment or .env (an unknown key, a placeholder secret): say which, not a traceback.
        problem = "; ".join(refused_setting(e["loc"], e["msg"]) for e in error.errors())
        return fallback(Check(name, "broken", f"the settings are refused: {problem}", "fix .env (see .env.example)"))
    except UserError as error:
        # get_settings says the same in one sentence.
        return fallback(Check(name, "broken", str(error), "fix .env (see .env.example)"))
    except Exception as error:
        failed = f"{type(error).__name__}: {error}".splitlines()[0]
        return fallback(Check(name, "broken", f"the probe failed: {failed}", f"{PACKAGE} doctor --json"))


def _log_failed(predictions: Check) -> tuple[Check, Check]:
    return predictions, feedback_check(None, None, predictions.detail)


def run_checks(root: Path, settings: Callable[[], Settings] = get_settings) -> list[Check]:
    """Every check, in the order a learner meets them; `settings` is called by the probes that need it."""
    ports = configured_ports(root)
    api_port = next(port for variable, port, _ in ports if variable == "API_PORT")
    with ThreadPoolExecutor(max_workers=7) as pool:
        slow = {
            "installed": pool.submit(_guarded, "installed", lambda: probe_installed(root), lambda c: c),
            "pipeline": pool.submit(_guarded, "pipeline", lambda: probe_pipeline(root), lambda c: c),
            "champion": pool.submit(_guarded, "champion", lambda: probe_champion(settings()), lambda c: (c, None)),
            "service": pool.submit(probe_service, api_port),
            "log": pool.submit(_guarded, "predictions", lambda: probe_prediction_log(settings()), _log_failed),
            "monitoring": pool.submit(_guarded, "monitoring", lambda: probe_monitoring(settings()), lambda c: c),
            "java": pool.submit(_guarded, "java", lambda: probe_java(root), lambda c: c),
        }
        checks = [
            _guarded("python", lambda: probe_python(root), lambda c: c),
            _guarded("git-identity", lambda: probe_git_identity(root), lambda c: c),
            _guarded("disk", lambda: disk_check(shutil.disk_usage(root).free, str(root)), lambda c: c),
        ]
        checks += [
            _guarded(f"port:{var}", partial(probe_port, var, port, again), lambda c: c) for var, port, again in ports
        ]
        champion, champion_version = slow["champion"].result()
        url, answer, http_status = slow["service"].result()
        make_serve = "make serve" if api_port == PORTS["API_PORT"][0] else f"make serve API_PORT={api_port}"
        predictions, feedback = slow["log"].result()
        checks += [
            slow["installed"].result(),
            slow["pipeline"].result(),
            champion,
            service_check(url, answer, http_status, champion_version, make_serve),
            predictions,
            feedback,
            slow["monitoring"].result(),
            slow["java"].result(),
        ]
    return checks


def main(as_json: bool = False) -> int:
    checks = run_checks(find_project_root())
    if as_json:
        print(json.dumps(to_json(checks), indent=2, ensure_ascii=False))
    else:
        # A Windows console may not encode ✓ and ✗: replace what it cannot show rather than fail on it.
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(errors="replace")
        print(format_text(checks))
    return exit_code(checks)


if __name__ == "__main__":
    raise SystemExit(main("--json" in sys.argv[1:]))
