"""The verdicts of `doctor`: what each probe's finding means (ok, todo, broken), the next command, and the output."""

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

Status = Literal["ok", "todo", "broken"]
# ✓ done, · not done yet (a step to take, nothing wrong), ✗ broken (the only status that makes doctor exit 1).
SYMBOLS: dict[Status, str] = {"ok": "✓", "todo": "·", "broken": "✗"}
# Below this, a retrain or a DVC checkout can fill the disk halfway through and leave a half-written cache.
MIN_FREE_BYTES = 1024**3
REQUIRES_PYTHON = re.compile(r">=\s*(\d+)\.(\d+)")
# Spark 4, which the lock's pyspark is, runs on Java 17 or newer.
MIN_JAVA = 17
JAVA_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


@dataclass(frozen=True)
class Check:
    """One line of the report: a check's name, its status, what was found, and the command to run next."""

    check: str
    status: Status
    detail: str
    next: str | None = None


@dataclass(frozen=True)
class PortHolder:
    """What listens on a port: our own service (recognised by its answer), or another program, named when known."""

    ours: bool
    description: str
    pid: int | None = None


def format_line(check: Check) -> str:
    line = f"{SYMBOLS[check.status]} {check.check}: {check.detail}"
    return f"{line} -> next: {check.next}" if check.next else line


def format_text(checks: list[Check]) -> str:
    return "\n".join(format_line(check) for check in checks)


def to_json(checks: list[Check]) -> dict[str, Any]:
    """The `--json` document: every check in order, and how many are broken."""
    return {"checks": [asdict(check) for check in checks], "broken": count_broken(checks)}


def count_broken(checks: list[Check]) -> int:
    return sum(check.status == "broken" for check in checks)


def exit_code(checks: list[Check]) -> int:
    """1 only when something is broken: a step not taken yet is where a learner stands, not an error."""
    return 1 if count_broken(checks) else 0


def python_check(version: tuple[int, int, int], requires_python: str) -> Check:
    match = REQUIRES_PYTHON.search(requires_python)
    running = ".".join(map(str, version))
    if match is None:
        return Check("python", "ok", f"{running} (requires-python {requires_python!r} names no minimum)")
    minimum = (int(match[1]), int(match[2]))
    if version[:2] < minimum:
        wanted = f"{minimum[0]}.{minimum[1]}"
        return Check(
            "python",
            "broken",
            f"{running} is older than the project's requires-python {requires_python}",
            f"install Python {wanted} (uv python install {wanted}), then make install",
        )
    return Check("python", "ok", f"{running} (requires-python {requires_python})")


def git_identity_check(has_git: bool, identity: str | None) -> Check:
    """identity: `Name <email>` as git would sign a commit, or None when git cannot name an author."""
    if not has_git:
        return Check("git-identity", "broken", "git is not on the PATH (DVC and lineage need it)", "install git")
    if identity is None:
        return Check(
            "git-identity",
            "todo",
            "git has no user name or e-mail, so commits and `dvc exp run` fail",
            'git config --global user.name "Your Name" && git config --global user.email you@example.com',
        )
    return Check("git-identity", "ok", identity)


def disk_check(free_bytes: int, folder: str) -> Check:
    free = f"{free_bytes / 1024**3:.1f} GB free in {folder}"
    if free_bytes < MIN_FREE_BYTES:
        return Check("disk", "broken", f"only {free}", "free some space (make clean; uv cache clean; dvc gc)")
    return Check("disk", "ok", free)


def port_check(variable: str, port: int, holder: PortHolder | None, elsewhere: str) -> Check:
    """A free port, or one held by our own program, is fine; another program holding it stops our step from starting.

    elsewhere: the command that starts the step on another port.
    """
    name = f"port:{variable}"
    if holder is None:
        return Check(name, "ok", f"{port} is free")
    if holder.ours:
        return Check(name, "ok", f"{port} is held by {holder.description}")
    stop = f"stop it (kill {holder.pid}) or " if holder.pid is not None else ""
    return Check(
        name,
        "broken",
        f"{port} is held by {holder.description}",
        f"{stop}use another port: {elsewhere}",
    )


def java_version(version_text: str) -> int | None:
    """The major version in `java -version`'s output: 17 for `openjdk version "17.0.15"`, 8 for `"1.8.0_292"`."""
    match = JAVA_VERSION.search(version_text)
    if match is None:
        return None
    major = int(match[1])
    return int(match[2]) if major == 1 and match[2] else major


def java_check(major: int | None, has_pyspark: bool) -> Check:
    """Java for the Spark engine: broken only when pyspark is installed and cannot start; otherwise informative.

    major: what `java -version` says (None: no java on the PATH or in JAVA_HOME).
    """
    found = "no Java" if major is None else f"Java {major}"
    if major is not None and major >= MIN_JAVA:
        return Check("java", "ok", f"{found}, which score --engine spark runs on")
    if not has_pyspark:
        return Check("java", "ok", f"{found}; only score --engine spark needs Java {MIN_JAVA} or newer (docs/batch.md)")
    return Check(
        "java",
        "broken",
        f"{found}, but score --engine spark (pyspark is installed) needs Java {MIN_JAVA} or newer",
        f"install Java {MIN_JAVA}+ (apt-get install openjdk-{MIN_JAVA}-jre-headless, brew install openjdk@{MIN_JAVA}) "
        "or point JAVA_HOME at one",
    )


def installed_check(venv_found: bool, version: str | None, location: str | None, project_root: str) -> Check:
    if not venv_found:
        return Check("installed", "todo", "no .venv in the project", "make install")
    if version is None:
        return Check("installed", "todo", "the package is not importable from .venv", "make install")
    if location is not None and not location.startswith(project_root):
        return Check("installed", "todo", f"{version} is installed from another folder: {location}", "make install")
    return Check("installed", "ok", f"version {version} in .venv")


def pipeline_check(status: dict[str, Any] | None, has_lock: bool, error: str | None = None) -> Check:
    """status: `dvc status --json`, where every stage that would run again is a key (an empty document: up to date)."""
    if error is not None:
        return Check("pipeline", "broken", f"dvc status failed: {error}", "dvc status")
    if not has_lock:
        return Check("pipeline", "todo", "never run (no dvc.lock)", "make pipeline")
    if status:
        return Check("pipeline", "todo", f"stages changed: {', '.join(status)}", "make pipeline")
    return Check("pipeline", "ok", "up to date (dvc status)")


def champion_check(
    model_uri: str,
    version: str | None,
    versions_registered: int,
    missing_files: str | None = None,
    server_down: str | None = None,
) -> Check:
    """version: the version the alias points to; missing_files: where its model files should be and are not."""
    if server_down is not None:
        return Check(
            "champion",
            "todo",
            f"the tracking server {server_down} does not answer",
            "docker compose -f deploy/docker-compose.yml up -d",
        )
    if missing_files is not None:
        return Check(
            "champion",
            "broken",
            f"{model_uri} is version {version}, but its files are missing: {missing_files}",
            "make pipeline (a new version), or restore the artifacts folder",
        )
    if version is None:
        if versions_registered:
            return Check(
                "champion", "todo", f"{versions_registered} version(s) registered, none is {model_uri}", "make promote"
            )
        return Check("champion", "todo", f"no model registered yet for {model_uri}", "make pipeline")
    return Check("champion", "ok", f"{model_uri} is version {version}")


def service_check(
    url: str,
    answer: dict[str, Any] | None,
    http_status: int | None,
    champion_version: str | None,
    make_serve: str,
) -> Check:
    """answer: the JSON body of GET /ready (None when nothing answers on the URL)."""
    if http_status is None:
        return Check("service", "todo", f"nothing answers on {url}", make_serve)
    if answer is None:
        return Check("service", "broken", f"{url} answers, but not as this project's service", "see port:API_PORT")
    if http_status != 200:
        reasons = "; ".join(str(reason) for reason in answer.get("reasons", [])) or f"HTTP {http_status}"
        return Check("service", "broken", f"{url} is not ready: {reasons}", f"make pipeline, then restart {make_serve}")
    served = str(answer.get("model_version"))
    if champion_version is not None and served != champion_version:
        return Check(
            "service",
            "todo",
            f"{url} serves version {served}, the champion is {champion_version}",
            f'curl -X POST -H "X-API-Key: $API_KEY" {url}/admin/reload',
        )
    return Check("service", "ok", f"{url} serves {answer.get('model')} version {served}")


def predictions_check(count: int | None, error: str | None = None) -> Check:
    """count: predictions in the log (None when the log does not exist yet)."""
    if error is not None:
        return Check("predictions", "broken", f"the prediction log cannot be opened: {error}", "check DATABASE_URL")
    if not count:
        return Check("predictions", "todo", "none logged yet", "make serve, then make simulate in another terminal")
    return Check("predictions", "ok", f"{count} logged")


def feedback_check(count: int | None, predictions: int | None, error: str | None = None) -> Check:
    """count: predictions that received feedback."""
    if error is not None:
        return Check("feedback", "todo", "waits for the prediction log to open", "see predictions")
    if not count:
        return Check("feedback", "todo", "none received yet", "make simulate (sends feedback on 30% of predictions)")
    return Check("feedback", "ok", f"on {count} of {predictions} predictions")


def monitoring_check(
    created_at: datetime | None, model_version: str | None, drift_share: float | None, breaches: list[str]
) -> Check:
    """The latest line of reports/monitoring/history.jsonl (created_at None: monitor never ran)."""
    if created_at is None:
        return Check("monitoring", "todo", "no monitoring run yet", "make monitor")
    when = created_at.strftime("%Y-%m-%d %H:%M UTC")
    seen = f"latest run {when} on version {model_version}, drift share {drift_share:.2f}"
    if breaches:
        return Check("monitoring", "todo", f"{seen}: breached {', '.join(breaches)}", "make retrain")
    return Check("monitoring", "ok", f"{seen}, no threshold crossed")
