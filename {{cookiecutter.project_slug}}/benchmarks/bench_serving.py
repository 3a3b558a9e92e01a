"""Load-test both serving modes against a bare FastAPI app and `mlflow models serve` on the same champion.

`make bench` runs it. The service runs twice, SERVING_MODE=fast and SERVING_MODE=plain, side by side, so that the
ratios show what the fast mode's pieces buy (docs/performance.md keeps the measured figures).

Each server runs on 127.0.0.1 with one worker; each is loaded by the same client (wrk when it is on the PATH,
otherwise a bounded asyncio httpx2 generator): N connections for a fixed duration, single records then batches of
100. The servers take turns, round after round, so that a burst of other work on a shared machine hits every server
of a round alike: each ratio is taken within a round, and the median and range over the rounds are printed. Beside
req/s, p50 and p99 latency it prints the CPU time each server spent per request (its processes' user and system
time, Linux), a ratio that a busy machine changes far less than req/s, and each mode's worker memory. The service
logs every prediction to a throwaway SQLite file: the project's own log stays clean.
`--keys` adds a third service, fast mode with API_KEYS set (three named keys, the one sent being the last), loaded
with its X-API-Key beside the unkeyed fast one, and prints what the key check costs.
Needs a champion in the registry (`make pipeline`); MLFLOW_TRACKING_URI and MODEL_URI are read as the service does.
"""

import argparse
import asyncio
import importlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

HERE = Path(__file__).resolve().parent
PACKAGE = "{{ cookiecutter.package_name }}"
CONSTANT = {"prediction_id": "00000000-0000-0000-0000-000000000000", "prediction": 0, "model_version": "1"}
# --keys: three keys as an operator would set them; the one the load sends is checked against all three (every
# digest is compared, whichever matches), so its place in the list does not change the cost.
BENCH_SECRET = "bench-predict-key-0c51d2e4"
BENCH_KEYS = f"ops:admin:bench-admin-key-9a1f,app:feedback:bench-feedback-key-77e0,web:predict:{BENCH_SECRET}"


def create_bare_app() -> Any:
    """The floor: FastAPI with nothing but a route that returns a constant (no validation, model or database)."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/predict")
    async def predict() -> dict[str, Any]:
        return CONSTANT

    @app.post("/predict/batch")
    async def predict_batch() -> dict[str, Any]:
        return {"predictions": [CONSTANT] * 100}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "alive"}

    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(command: list[str], env: dict[str, str], probe: str, timeout: float = 180) -> subprocess.Popen[bytes]:
    """Start a server and wait until `probe` answers 200."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[:4]} exited with {process.returncode}")
        try:
            if httpx2.get(probe, timeout=2).status_code == 200:
                return process
        except httpx2.TransportError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"{probe} did not answer within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def sample_record(base: str) -> dict[str, Any]:
    """A valid record from the served model's signature (numbers 1.0, text "a")."""
    inputs = httpx2.get(f"{base}/model", timeout=10).json()["signature"]["inputs"]
    return {column["name"]: "a" if column["type"] == "string" else 1.0 for column in inputs}


def run_wrk(url: str, body: bytes, connections: int, duration: float, headers: dict[str, str]) -> dict[str, float]:
    """One wrk run: req/s, p50 and p99 latency in ms, requests answered and non-2xx answers."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            + "".join(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n" for name, value in headers.items())
            + f"wrk.body = {json.dumps(body.decode())}\n"
        )
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency", "-s", script.name, url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)

    def latency_ms(percent: str) -> float:
        match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if match is None:
            return float("nan")
        return float(match[1]) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match[2]]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),  # type: ignore[index]
        "requests": float(re.search(r"(\d+) requests in", output)[1]),  # type: ignore[index]
        "p50": latency_ms("50"),
        "p99": latency_ms("99"),
        "errors": float(errors[1]) if errors else 0.0,
    }


async def run_httpx(
    url: str, body: bytes, connections: int, duration: float, extra: dict[str, str]
) -> dict[str, float]:
    """Fallback client: `connections` workers, each sending one request after another, for `duration` seconds."""
    latencies: list[float] = []
    errors = 0
    limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = {"Content-Type": "application/json", **extra}
    async with httpx2.AsyncClient(limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                latencies.append((time.perf_counter() - started) * 1000)
                errors += response.status_code >= 300

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(latencies) / elapsed,
        "requests": float(len(latencies)),
        "p50": cuts[49],
        "p99": cuts[98],
        "errors": float(errors),
    }


def load(
    url: str, body: bytes, connections: int, duration: float, headers: dict[str, str] | None = None
) -> dict[str, float]:
    if shutil.which("wrk"):
        return run_wrk(url, body, connections, duration, headers or {})
    return asyncio.run(run_httpx(url, body, connections, duration, headers or {}))


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and its descendants (`mlflow models serve` runs uvicorn as a child), in
    seconds, or NaN where /proc is missing (not Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            # Fields after the command name, which is in parentheses and may hold spaces.
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        stats[int(entry.parent.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    if pid not in stats:
        return float("nan")
    tree, total = {pid}, 0.0
    while True:
        children = {child for child, (parent, _) in stats.items() if parent in tree} - tree
        if not children:
            break
        tree |= children
    for member in tree:
        total += stats[member][1]
    return total


def measure(
    pid: int, url: str, body: bytes, connections: int, duration: float, headers: dict[str, str]
) -> dict[str, float]:
    """One load run, plus the milliseconds of CPU the server spent per request it answered."""
    before = cpu_seconds(pid)
    result = load(url, body, connections, duration, headers)
    result["cpu_ms"] = (cpu_seconds(pid) - before) * 1000 / max(result["requests"], 1.0)
    return result


def combine(runs: list[dict[str, float]]) -> dict[str, float]:
    """One server's rounds: the median of each figure, and every error."""
    combined = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    combined["errors"] = sum(run["errors"] for run in runs)
    return combined


def spread(values: list[float]) -> str:
    """The median, and the range when there are several values: "4.1 (3.9-4.4)"."""
    median = f"{statistics.median(values):.1f}"
    return median if len(values) == 1 else f"{median} ({min(values):.1f}-{max(values):.1f})"


def speedups(service: list[dict[str, float]], reference: list[dict[str, float]], key: str = "rps") -> list[float]:
    """How many times the reference the service does, round by round: by req/s, or by CPU time per request."""
    pairs = zip(service, reference, strict=True)
    if key == "rps":
        return [ours["rps"] / theirs["rps"] for ours, theirs in pairs]
    return [theirs[key] / ours[key] for ours, theirs in pairs]


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, in MB (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    values = {
        line.split(":")[0]: int(line.split()[1]) / 1024
        for line in status.splitlines()
        if line[:5] in ("VmRSS", "VmHWM")
    }
    return values["VmRSS"], values["VmHWM"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per server, scenario and round")
    parser.add_argument("--rounds", type=int, default=3, help="turns of every server; ratios are taken per round")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--batch", type=int, default=100, help="records per batch request")
    parser.add_argument("--skip-mlflow", action="store_true", help="do not start `mlflow models serve`")
    parser.add_argument("--keys", action="store_true", help="also fast mode with API_KEYS set: the key check's cost")
    args = parser.parse_args()

    settings = importlib.import_module(f"{PACKAGE}.settings").get_settings()
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
        # `mlflow models serve` runs `uvicorn` by name: the venv's bin must come first on the PATH, activated or not.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    modes = ("fast", "plain")
    ports = {name: free_port() for name in ("fast", "plain", "bare", "mlflow", "keyed")}
    uvicorn = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--workers", "1"]
    servers: dict[str, subprocess.Popen[bytes]] = {}
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    memory: dict[str, tuple[float, float]] = {}
    try:
        for mode in modes:
            servers[mode] = start(
                [*uvicorn, "--port", str(ports[mode]), "--factory", f"{PACKAGE}.service.app:create_app"],
                env | {"SERVING_MODE": mode, "DATABASE_URL": f"sqlite:///{workdir / f'{mode}.db'}"},
                f"http://127.0.0.1:{ports[mode]}/ready",
            )
        if args.keys:
            # The same fast service, with keys: every request is checked against the three before it is served.
            keyed_env = env | {"SERVING_MODE": "fast", "DATABASE_URL": f"sqlite:///{workdir / 'keyed.db'}"}
            servers["keyed"] = start(
                [*uvicorn, "--port", str(ports["keyed"]), "--factory", f"{PACKAGE}.service.app:create_app"],
                keyed_env | {"API_KEYS": BENCH_KEYS, "API_KEY": ""},
                f"http://127.0.0.1:{ports['keyed']}/ready",
            )
        servers["bare"] = start(
            [
                *uvicorn,
                "--port",
                str(ports["bare"]),
                "--no-access-log",
                "--app-dir",
                str(HERE),
                "--factory",
                "bench_serving:create_bare_app",
            ],
            env,
            f"http://127.0.0.1:{ports['bare']}/health",
        )
        if not args.skip_mlflow:
            mlflow = [
                sys.executable,
                "-m",
                "mlflow",
                "models",
                "serve",
                "-m",
                settings.model_uri,
                "--env-manager",
                "local",
            ]
            servers["mlflow"] = start(
                [*mlflow, "-h", "127.0.0.1", "-p", str(ports["mlflow"]), "-w", "1"],
                env,
                f"http://127.0.0.1:{ports['mlflow']}/ping",
            )
        record = sample_record(f"http://127.0.0.1:{ports['fast']}")
        bodies: dict[str, dict[str, Any]] = {
            "single": {"service": record, "mlflow": {"dataframe_records": [record]}},
            f"batch{args.batch}": {
                "service": [record] * args.batch,
                "mlflow": {"dataframe_records": [record] * args.batch},
            },
        }
        paths = {"single": ("/predict", "/invocations"), f"batch{args.batch}": ("/predict/batch", "/invocations")}
        for scenario, payload in bodies.items():
            service_path, mlflow_path = paths[scenario]
            targets = {
                name: (
                    f"http://127.0.0.1:{ports[name]}{mlflow_path if name == 'mlflow' else service_path}",
                    json.dumps(payload["mlflow" if name == "mlflow" else "service"]).encode(),
                )
                for name in servers
            }
            headers = {name: {"X-API-Key": BENCH_SECRET} if name == "keyed" else {} for name in servers}
            for name, (url, body) in targets.items():
                load(url, body, args.connections, 1.0, headers[name])  # warm-up
            for _ in range(args.rounds):
                for name, (url, body) in targets.items():
                    run = measure(servers[name].pid, url, body, args.connections, args.duration, headers[name])
                    runs.setdefault((scenario, name), []).append(run)
        memory = {mode: rss_mb(servers[mode].pid) for mode in modes}
    finally:
        for process in servers.values():
            stop(process)
        shutil.rmtree(workdir, ignore_errors=True)

    results = {key: combine(value) for key, value in runs.items()}
    client = "wrk" if shutil.which("wrk") else "httpx"
    print(
        f"\n{client}, {args.connections} connections, {args.duration:.0f} s per run, {args.rounds} rounds "
        "(medians shown), one worker per server"
    )
    if client == "httpx":
        # One Python process cannot send as fast as the bare app answers: the ratios to it then understate the gap.
        print("(the Python client may be the limit here: install wrk, e.g. apt-get install wrk, for the ratios)")
    print()
    print(f"{'scenario':<10} {'server':<8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for (scenario, name), r in results.items():
        print(f"{scenario:<10} {name:<8} {r['rps']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['errors']:>7.0f}")
    print()
    print("CPU ms per request (user + system time of the server's processes):")
    for (scenario, name), r in results.items():
        print(f"  {scenario:<10} {name:<8} {r['cpu_ms']:>8.3f}")
    print()
    print("req/s ratios, median (range) over the rounds; last, the same ratio by CPU time per request:")
    for scenario in bodies:
        for mode in modes:
            service = runs[(scenario, mode)]
            line = f"{scenario:<10} service/bare = {statistics.median(speedups(service, runs[(scenario, 'bare')])):.2f}"
            if (scenario, "mlflow") in runs:
                mlflow_runs = runs[(scenario, "mlflow")]
                line += f"   service/mlflow = {spread(speedups(service, mlflow_runs))}"
                line += f"   by CPU {spread(speedups(service, mlflow_runs, 'cpu_ms'))}"
            print(f"{line}   ({mode})")
    if args.keys:
        print()
        print("the key check's cost, fast mode with API_KEYS / without, median (range) over the rounds:")
        for scenario in bodies:
            keyed, unkeyed = runs[(scenario, "keyed")], runs[(scenario, "fast")]
            by_rps = spread([100 * ratio for ratio in speedups(keyed, unkeyed)])
            by_cpu = spread([100 * ratio for ratio in speedups(keyed, unkeyed, "cpu_ms")])
            print(f"{scenario:<10} req/s {by_rps} %   by CPU per request {by_cpu} %")
    print()
    for mode, (rss, peak) in memory.items():
        print(f"{mode} worker memory: {rss:.0f} MB resident, {peak:.0f} MB peak")


if __name__ == "__main__":
    main()
