"""Local TCP ports: the ones this project is configured to use, and which program holds one, as far as the OS tells.

A port is probed by connecting to it on 127.0.0.1 (what a learner's browser or `make simulate` would do), then the
holder is asked what it is over HTTP, and the OS for its process (psutil, which DVC already depends on).
"""

import os
import socket
from pathlib import Path

import httpx2

from ..core.doctor_checks import PortHolder

# The defaults of the Makefile and of deploy/docker-compose.yml (README: Ports), and the make target each one serves.
PORTS = {"API_PORT": (8000, "serve"), "MLFLOW_PORT": (5000, "mlflow-ui")}
OPTIONAL_PORTS = {"EVIDENTLY_PORT": (8001, "monitoring-ui")}
STACK_PORTS = {"POSTGRES_PORT": 5432, "S3_PORT": 8333}
# Programs that publish the compose stack's ports: holding one of them is the stack doing its job.
STACK_PROGRAMS = ("docker", "com.docker", "vpnkit", "rootlessport", "postgres", "weed")
PROBE_SECONDS = 3.0


def configured_ports(root: Path) -> list[tuple[str, int, str]]:
    """(variable, port, command to use another one): the environment's value, else deploy/.env's, else the default."""
    stack_env = _read_env_file(root / "deploy" / ".env")

    def value(variable: str, default: int) -> int:
        raw = os.environ.get(variable) or stack_env.get(variable)
        return int(raw) if raw and raw.isdigit() else default

    ports = [(var, value(var, default), f"make {target} {var}=") for var, (default, target) in PORTS.items()]
    ports += [
        (var, value(var, default), f"make {target} {var}=")
        for var, (default, target) in OPTIONAL_PORTS.items()
        if var in os.environ
    ]
    # The team stack's ports matter once it is configured, that is once deploy/.env exists.
    if (root / "deploy" / ".env").is_file():
        ports += [(var, value(var, default), f"set in deploy/.env: {var}=") for var, default in STACK_PORTS.items()]
    return ports


def _read_env_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line)
    return {key.strip(): value.strip().strip("\"'") for key, value in pairs if not key.lstrip().startswith("#")}


def port_holder(variable: str, port: int) -> PortHolder | None:
    """None when nothing accepts a connection on 127.0.0.1:port; else who holds it, as far as we can tell."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=PROBE_SECONDS):
            pass
    except OSError:
        return None
    recognised = _recognise_by_answer(variable, port)
    if recognised is not None:
        return PortHolder(ours=True, description=recognised)
    pid, program = _listening_program(port)
    if variable in STACK_PORTS and (program is None or any(name in program for name in STACK_PROGRAMS)):
        # The stack's ports are published by Docker, whose process an unprivileged user often cannot see.
        return PortHolder(ours=True, description=f"{program or 'a program'} (the compose stack: docker compose ps)")
    return PortHolder(ours=False, description=program or "another program (the OS does not say which)", pid=pid)


def _recognise_by_answer(variable: str, port: int) -> str | None:
    """Ask the holder what it is: our service answers /health with `alive`, an MLflow server /version."""
    base = f"http://127.0.0.1:{port}"
    try:
        if variable == "API_PORT":
            answer = httpx2.get(f"{base}/health", timeout=PROBE_SECONDS)
            if answer.status_code == 200 and answer.json() == {"status": "alive"}:
                return "this project's service"
        if variable == "MLFLOW_PORT":
            answer = httpx2.get(f"{base}/version", timeout=PROBE_SECONDS)
            if answer.status_code == 200 and answer.text[:1].isdigit():
                return f"an MLflow server ({answer.text.strip()})"
    except (httpx2.HTTPError, ValueError):
        return None
    return None


def _listening_program(port: int) -> tuple[int | None, str | None]:
    """The pid and command line of the process listening on port, when the OS tells (macOS needs root for that)."""
    import psutil

    try:
        listeners = [c for c in psutil.net_connections("inet") if c.status == "LISTEN" and c.laddr.port == port]
        pid = next((c.pid for c in listeners if c.pid), None)
        if pid is None:
            return None, None
        process = psutil.Process(pid)
        command = " ".join(process.cmdline())[:80] or process.name()
        return pid, f"{process.name()} (pid {pid}: {command})"
    except (psutil.Error, OSError):
        return None, None
