"""Real services for the slow tests, from packages, on 127.0.0.1: PostgreSQL, an S3 API (moto), MLflow; and the
template's one home for a free port, starting a process, waiting until it answers and stopping it (the slow tests
and `make demo` use these).

Each service is a context manager that starts one process group, waits until it answers, and stops it by its PID on
exit.
Where PostgreSQL cannot be started the tests skip with the reason, except in CI (CI=true), where they fail.
"""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

# Debian installs the server binaries outside the PATH; the newest major version wins.
POSTGRES_BINS = sorted(
    (path for path in Path("/usr/lib/postgresql").glob("*/bin") if path.parent.name.isdigit()),
    key=lambda path: int(path.parent.name),
    reverse=True,
)
# initdb refuses root: the Debian package's own system user runs the server, as in production.
POSTGRES_SYSTEM_USER = "postgres"


def unavailable(reason: str) -> None:
    """Skip on a developer's machine; fail in CI, where a missing service means a broken .ci/run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: .ci/run must install it)")
    pytest.skip(reason)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now: the OS picks it, and the socket is closed again."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    ready: Callable[[], bool],
    what: str,
    process: subprocess.Popen[bytes],
    log: Path,
    timeout: float,
    fail: Callable[[str], NoReturn] = pytest.fail,
) -> None:
    """Poll until `ready()`; fail early with the log if the process died, or after `timeout` seconds. A test fails
    with pytest.fail; `make demo` (scripts/demo.py) passes its own `fail`, which says one sentence and exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            fail(f"{what} exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        if ready():
            return
        time.sleep(0.3)
    fail(f"{what} did not answer within {timeout:.0f}s:\n{log.read_text(errors='replace')[-3000:]}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start(
    command: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None, append: bool = False
) -> subprocess.Popen[bytes]:
    """Start a process in its own group (its workers die with it), output to `log` (or after it), stdin closed."""
    with log.open("ab" if append else "wb") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
            start_new_session=True,
        )  # fmt: skip


def stop(process: subprocess.Popen[bytes], timeout: float = 15, sig: int = signal.SIGTERM) -> None:
    """Signal the process group started above (by its leader's PID), SIGKILL it if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
    # Workers of a server (uvicorn, gunicorn) may outlive their leader briefly: reap the rest of the group.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class PostgresServer:
    """The server process of a cluster: started, stopped and restarted on the same data folder and port."""

    def __init__(self, command: list[str], ready: list[str], log: Path) -> None:
        self.command, self.ready, self.log = command, ready, log
        self.process = self._start(append=False)

    def _start(self, append: bool) -> subprocess.Popen[bytes]:
        process = start(self.command, self.log, append=append)
        try:
            wait_until(self._answers, "PostgreSQL", process, self.log, 60)
        except BaseException:
            stop(process, timeout=30, sig=signal.SIGINT)
            raise
        return process

    def _answers(self) -> bool:
        return subprocess.run(self.ready, check=False).returncode == 0

    def stop(self) -> None:
        # SIGINT is PostgreSQL's "fast" shutdown: open client sessions are ended instead of waited for.
        stop(self.process, timeout=30, sig=signal.SIGINT)

    def restart(self, down_seconds: float = 0.0) -> None:
        """What `pg_ctl restart -m fast` does (a fast shutdown, then a start on the same data and port), keeping the
        new process here so that the fixture stops it; the database stays away `down_seconds` in between."""
        self.stop()
        time.sleep(down_seconds)
        self.process = self._start(append=True)


@dataclass(frozen=True)
class Postgres:
    """A running PostgreSQL cluster: one role with a password, reached over TCP."""

    port: int
    user: str
    password: str
    psql: Path
    server: PostgresServer

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def sql(self, database: str, statement: str) -> str:
        """Run one statement with psql and return its unaligned, tuples-only output."""
        result = subprocess.run(
            [str(self.psql), self.url(database, "postgresql"), "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", statement],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"psql failed on {statement!r}: {result.stderr}"
        return result.stdout.strip()

    def restart(self, down_seconds: float = 0.0) -> None:
        """Restart the server under its clients (PostgresServer.restart)."""
        self.server.restart(down_seconds)


@contextmanager
def postgres(databases: tuple[str, ...]) -> Iterator[Postgres]:
    """initdb into a temporary folder, start on a free port (socket in that folder), create the databases."""
    if not POSTGRES_BINS:
        unavailable("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    bin_dir = POSTGRES_BINS[0]
    as_user: list[str] = []
    # Under /tmp directly: pytest's tmp_path is private to root, which the server's user could not enter.
    folder = Path(tempfile.mkdtemp(prefix="team-stack-pg-"))
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            unavailable("running as root without runuser: cannot start PostgreSQL as a non-root user")
        if subprocess.run(["id", POSTGRES_SYSTEM_USER], capture_output=True, check=False).returncode != 0:
            subprocess.run(["useradd", "--system", "--no-create-home", POSTGRES_SYSTEM_USER], check=True)
        shutil.chown(folder, POSTGRES_SYSTEM_USER)
        as_user = ["runuser", "-u", POSTGRES_SYSTEM_USER, "--"]
    password = secrets.token_urlsafe(16)
    (folder / "password").write_text(password)
    if as_user:
        shutil.chown(folder / "password", POSTGRES_SYSTEM_USER)
    data, log, port = folder / "data", folder / "postgres.log", free_port()
    initdb = [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "app", f"--pwfile={folder / 'password'}"]
    initdb += ["--auth=scram-sha-256", "--encoding=UTF8", "--no-sync"]
    result = subprocess.run(initdb, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        unavailable(f"initdb failed: {result.stderr.strip()[-500:]}")
    server = [*as_user, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(folder)]
    server += ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=100"]
    ready = [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
    running: PostgresServer | None = None
    try:
        running = PostgresServer(server, ready, log)
        cluster = Postgres(port=port, user="app", password=password, psql=bin_dir / "psql", server=running)
        for database in databases:
            cluster.sql("postgres", f"CREATE DATABASE {database}")
        yield cluster
    finally:
        if running is not None:
            running.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class S3:
    """An S3 API on 127.0.0.1 and the credentials that its clients send (moto accepts any)."""

    endpoint: str
    credentials: dict[str, str]

    def keys(self, bucket: str) -> list[str]:
        import boto3

        client = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1", **self._boto_credentials())
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def create_bucket(self, bucket: str) -> None:
        import boto3

        client = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1", **self._boto_credentials())
        client.create_bucket(Bucket=bucket)

    def upload(self, bucket: str, key: str, path: Path) -> None:
        import boto3

        client = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1", **self._boto_credentials())
        client.upload_file(str(path), bucket, key)

    def _boto_credentials(self) -> dict[str, str]:
        return {
            "aws_access_key_id": self.credentials["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": self.credentials["AWS_SECRET_ACCESS_KEY"],
        }


@contextmanager
def s3_server(folder: Path) -> Iterator[S3]:
    """moto's S3 API server (moto[server]) from the template's own environment."""
    port, log = free_port(), folder / "moto.log"
    process = start([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], log)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_until(lambda: http_ok(f"{endpoint}/moto-api/"), "moto S3 server", process, log, 60)
        credentials = {"AWS_ACCESS_KEY_ID": "team-stack-test", "AWS_SECRET_ACCESS_KEY": secrets.token_hex(16)}
        yield S3(endpoint=endpoint, credentials=credentials)
    finally:
        stop(process)


@contextmanager
def mlflow_server(venv_bin: Path, backend_uri: str, artifacts: str, env: dict[str, str], log: Path) -> Iterator[str]:
    """`mlflow server` from the baked project's environment, proxying artifacts to `artifacts`; yields its URL."""
    port = free_port()
    command = [str(venv_bin / "mlflow"), "server", "--backend-store-uri", backend_uri]
    command += ["--artifacts-destination", artifacts, "--serve-artifacts"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    # Its background job runner (GenAI scorers, half a dozen processes) has nothing to do for this project.
    process = start(command, log, env={**env, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: http_ok(f"{url}/health"), "mlflow server", process, log, 120)
        yield url
    finally:
        stop(process)
