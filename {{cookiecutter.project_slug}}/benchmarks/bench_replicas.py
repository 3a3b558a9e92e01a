"""Replicas on one PostgreSQL: 1, 2 and 4 service processes writing their prediction logs to one database under load.

`make bench-replicas` runs it. It starts a throwaway PostgreSQL cluster (initdb into a temporary folder, 127.0.0.1
and a free port, removed at the end) unless `--database-url` names a PostgreSQL database that nothing else writes to
(never the team's prediction log: the benchmark fills it). Then it starts four replicas of the service, each its own
uvicorn process with one worker in fast mode on its own port, all serving the champion from the registry
(`make pipeline` first) and logging to that database, as replicas behind a load balancer do.

Each scenario loads the first 1, 2, then 4 replicas at once (the others idle), each with its own client (wrk when it
is on the PATH, otherwise the bounded asyncio httpx2 generator of bench_serving.py), single records, for a fixed
duration. It prints per replica and total req/s and p99, then, from the database: the rows stored, the transactions
that wrote them (the distinct `xmin`, the id of the transaction that inserted each row, so rows per transaction is
exact: fast mode commits one transaction per micro-batch, `service/fast/micro_batching.py`), and whether every
acknowledged prediction id is stored. With wrk, requests still in flight when it stops may be stored without an
answer (counted apart, at most the connections); nothing acknowledged may be missing. It also prints the CPU time per
prediction of the replicas and of PostgreSQL (Linux, throwaway cluster only): the latter says how many predictions a
second one core of the database can take, which is where the database becomes the limit (docs/team-stack.md).
Figures go on docs/performance.md.
"""

import argparse
import asyncio
import importlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
from bench_serving import cpu_seconds, free_port, start, stop
from sqlalchemy import create_engine, text

PACKAGE = "{{ cookiecutter.package_name }}"
REPLICAS = (1, 2, 4)
# initdb refuses root; Debian's package creates this system user for its server, as the benchmark then runs it.
POSTGRES_USER = "postgres"
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = {key}
wrk.body = {body}
local acked
function init(args)
  acked = io.open(args[1], "a")
  acked:setvbuf("no")
end
function response(status, headers, body)
  if status == 200 then
    local id = body:match('"prediction_id"%s*:%s*"([^"]+)"')
    if id then acked:write(id .. "\\n") end
  end
end
"""


@dataclass
class Load:
    """What one replica's client saw: answers, non-2xx answers, socket errors, the p99, the acknowledged ids."""

    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    p99_ms: float = float("nan")
    acked: set[str] = field(default_factory=set)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Wrk:
    """A running wrk and the file its script writes the acknowledged prediction ids to."""

    process: subprocess.Popen[str]
    acked: Path


def postgres_bin() -> Path | None:
    """Where initdb is: on the PATH, or Debian's newest /usr/lib/postgresql/<major>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent  # a link on the PATH points into the folder with postgres and pg_isready
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: path.parent.name.zfill(4))
    return debian[-1] if debian else None


@contextmanager
def throwaway_postgres() -> Iterator[tuple[str, int]]:
    """A cluster in a temporary folder on 127.0.0.1, one role with a random password; yields (URL, server PID)."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        sys.exit("bench-replicas: PostgreSQL is not installed (apt-get install postgresql), or give --database-url")
    folder = Path(tempfile.mkdtemp(prefix="bench-replicas-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, POSTGRES_USER)
        as_user = ["runuser", "-u", POSTGRES_USER, "--"]
    password = secrets.token_urlsafe(16)
    (folder / "password").write_text(password)
    if as_user:
        shutil.chown(folder / "password", POSTGRES_USER)
    port = free_port()
    initdb = [*as_user, str(bin_dir / "initdb"), "-D", str(folder / "data"), "-U", "bench"]
    initdb += [f"--pwfile={folder / 'password'}", "--auth=scram-sha-256", "--encoding=UTF8", "--no-sync"]
    subprocess.run(initdb, check=True, capture_output=True)
    server = [*as_user, str(bin_dir / "postgres"), "-D", str(folder / "data"), "-p", str(port), "-k", str(folder)]
    server += ["-c", "listen_addresses=127.0.0.1"]
    with (folder / "postgres.log").open("wb") as log:
        process = subprocess.Popen(server, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        ready = [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
        deadline = time.monotonic() + 60
        while subprocess.run(ready, check=False).returncode != 0:
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"bench-replicas: PostgreSQL did not start:\n{(folder / 'postgres.log').read_text()[-2000:]}")
            time.sleep(0.3)
        admin = create_engine(f"postgresql+psycopg://bench:{password}@127.0.0.1:{port}/postgres")
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("CREATE DATABASE predictions"))
        admin.dispose()
        yield f"postgresql+psycopg://bench:{password}@127.0.0.1:{port}/predictions", process.pid
    finally:
        # SIGINT is PostgreSQL's fast shutdown: client sessions are ended, not waited for.
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)
        shutil.rmtree(folder, ignore_errors=True)


def sample_record(base: str, key: str) -> dict[str, Any]:
    """A valid record from the served model's signature (numbers 1.0, text "a")."""
    model = httpx2.get(f"{base}/model", headers={"X-API-Key": key}, timeout=10).json()
    return {column["name"]: "a" if column["type"] == "string" else 1.0 for column in model["signature"]["inputs"]}


def run_wrk(url: str, body: bytes, key: str, connections: int, duration: float, folder: Path) -> Wrk:
    """Start one wrk on a replica; `wrk_result` reads what it saw once it is done."""
    script = folder / f"{free_port()}.lua"
    script.write_text(WRK_SCRIPT.format(key=json.dumps(key), body=json.dumps(body.decode())))
    acked = script.with_suffix(".ids")
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency", "-s", str(script)]
    return Wrk(subprocess.Popen([*command, url, "--", str(acked)], stdout=subprocess.PIPE, text=True), acked)


def wrk_result(wrk: Wrk) -> Load:
    output, _ = wrk.process.communicate()
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    seconds = re.search(r"requests in ([\d.]+)(ms|s|m)", output)
    unit = {"ms": 0.001, "s": 1.0, "m": 60.0}
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Load(
        requests=int(re.search(r"(\d+) requests in", output)[1]),  # type: ignore[index]
        errors=(int(non_2xx[1]) if non_2xx else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0),
        seconds=float(seconds[1]) * unit[seconds[2]] if seconds else 0.0,
        p99_ms=float(p99[1]) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99[2]] if p99 else float("nan"),
        acked=set(wrk.acked.read_text().split()) if wrk.acked.exists() else set(),
    )


async def run_httpx(urls: list[str], body: bytes, key: str, connections: int, duration: float) -> list[Load]:
    """Fallback client: per replica, `connections` workers sending one request after another for `duration` s."""
    headers = {"Content-Type": "application/json", "X-API-Key": key}
    limits = httpx2.Limits(max_connections=connections * len(urls), max_keepalive_connections=connections * len(urls))
    loads = [Load(seconds=duration) for _ in urls]
    latencies: list[list[float]] = [[] for _ in urls]
    async with httpx2.AsyncClient(limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + duration

        async def worker(index: int) -> None:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                response = await client.post(urls[index], content=body, headers=headers)
                latencies[index].append((time.perf_counter() - began) * 1000)
                loads[index].requests += 1
                if response.status_code == 200:
                    loads[index].acked.add(response.json()["prediction_id"])
                else:
                    loads[index].errors += 1

        await asyncio.gather(*(worker(index) for index in range(len(urls)) for _ in range(connections)))
    for load, measured in zip(loads, latencies, strict=True):
        load.p99_ms = sorted(measured)[int(len(measured) * 0.99)] if measured else float("nan")
    return loads


def stored_since(url: str, since: datetime) -> tuple[set[str], int]:
    """The ids of the predictions created since `since` and how many transactions inserted them (distinct xmin)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id::text, xmin::text FROM predictions WHERE created_at >= :since"),
                {"since": since.replace(tzinfo=None)},  # the column holds naive UTC (store/tables.py)
            ).all()
    finally:
        engine.dispose()
    return {row[0] for row in rows}, len({row[1] for row in rows})


@contextmanager
def database(url: str | None) -> Iterator[tuple[str, int | None]]:
    """The database to write to and the PID of its server when it is ours (a throwaway cluster), else None."""
    if url:
        yield url, None
    else:
        with throwaway_postgres() as (throwaway, pid):
            yield throwaway, pid


@dataclass(frozen=True)
class Scenario:
    """One scenario's figures: the clients' view, then the database's."""

    replicas: int
    loads: list[Load]
    stored: int  # rows created during the scenario
    transactions: int  # the distinct transactions that inserted them
    lost: int  # acknowledged ids not in the table
    service_cpu: float  # seconds, the loaded replicas' processes
    database_cpu: float  # seconds, PostgreSQL's processes (NaN when the database is not ours)

    @property
    def acked(self) -> int:
        return sum(len(load.acked) for load in self.loads)


def run_scenario(
    count: int, urls: list[str], body: bytes, key: str, args: argparse.Namespace, folder: Path, database_url: str,
    replicas: list[subprocess.Popen[bytes]], postgres_pid: int | None,
) -> Scenario:  # fmt: skip
    """Load the first `count` replicas at once, then read what the database holds of the scenario."""
    time.sleep(1.0)  # the warm-up's or the last scenario's last commits land before the window opens
    since = datetime.now(UTC)
    service_before = sum(cpu_seconds(process.pid) for process in replicas[:count])
    database_before = cpu_seconds(postgres_pid) if postgres_pid else float("nan")
    if shutil.which("wrk"):
        running = [run_wrk(url, body, key, args.connections, args.duration, folder) for url in urls[:count]]
        loads = [wrk_result(process) for process in running]
    else:
        loads = asyncio.run(run_httpx(urls[:count], body, key, args.connections, args.duration))
    time.sleep(1.0)  # requests in flight when wrk stopped are still answered and committed
    service_cpu = sum(cpu_seconds(process.pid) for process in replicas[:count]) - service_before
    database_cpu = cpu_seconds(postgres_pid) - database_before if postgres_pid else float("nan")
    stored, transactions = stored_since(database_url, since)
    acked: set[str] = set().union(*(load.acked for load in loads))
    return Scenario(count, loads, len(stored), transactions, len(acked - stored), service_cpu, database_cpu)


def report(results: list[Scenario], args: argparse.Namespace) -> None:
    client = "wrk" if shutil.which("wrk") else "httpx"
    print(f"\n{client}, {args.connections} connections per replica, {args.duration:.0f} s per scenario, single")
    print("records, fast mode, one uvicorn worker per replica, every replica on one PostgreSQL\n")
    print(
        f"{'replicas':>8} {'total req/s':>11}  {'per replica req/s':<20} {'p99 ms':>7} {'errors':>6} {'rows':>7} "
        f"{'txns':>6} {'rows/txn':>8} {'acked':>7} {'lost':>5} {'unacked':>7}"
    )
    for scenario in results:
        loads = scenario.loads
        per_replica = " ".join(f"{load.rps:.0f}" for load in loads)
        rows_per_transaction = scenario.stored / max(scenario.transactions, 1)
        print(
            f"{scenario.replicas:>8} {sum(load.rps for load in loads):>11.0f}  {per_replica:<20} "
            f"{max(load.p99_ms for load in loads):>7.1f} {sum(load.errors for load in loads):>6} {scenario.stored:>7} "
            f"{scenario.transactions:>6} {rows_per_transaction:>8.1f} {scenario.acked:>7} {scenario.lost:>5} "
            f"{scenario.stored - scenario.acked + scenario.lost:>7}"
        )
    print("\nlost: acknowledged ids missing from the table (must be 0); unacked: stored rows whose answer the client")
    print("never read (in flight when it stopped)\n")
    print("CPU ms per stored prediction (user + system time of the processes):")
    for scenario in results:
        rows = max(scenario.stored, 1)
        line = f"{scenario.replicas:>8} replica(s): the replicas {scenario.service_cpu * 1000 / rows:.3f}"
        if scenario.database_cpu == scenario.database_cpu:  # not NaN: the throwaway cluster, ours to read
            database_ms = scenario.database_cpu * 1000 / rows
            line += f", PostgreSQL {database_ms:.3f} (one core of it takes about {1000 / database_ms:,.0f} a second)"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per scenario")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections per replica")
    parser.add_argument("--database-url", help="a PostgreSQL database nothing else writes to (default: a throwaway)")
    args = parser.parse_args()

    settings = importlib.import_module(f"{PACKAGE}.settings").get_settings()
    key = secrets.token_urlsafe(24)
    folder = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    results: list[Scenario] = []
    with database(args.database_url) as (database_url, postgres_pid):
        env = os.environ | {
            "DATABASE_URL": database_url,
            "SERVING_MODE": "fast",
            "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
            # The benchmark's own key, whatever .env says: it may send predictions and nothing else.
            "API_KEYS": f"bench:predict:{key}",
        }
        uvicorn = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--workers", "1", "--factory"]
        ports = [free_port() for _ in range(max(REPLICAS))]
        replicas: list[subprocess.Popen[bytes]] = []
        try:
            for port in ports:
                command = [*uvicorn, f"{PACKAGE}.service.app:create_app", "--port", str(port)]
                replicas.append(start(command, env, f"http://127.0.0.1:{port}/ready"))
            body = json.dumps(sample_record(f"http://127.0.0.1:{ports[0]}", key)).encode()
            urls = [f"http://127.0.0.1:{port}/predict" for port in ports]
            for url in urls:  # warm-up: each replica's first micro-batches and database connections
                asyncio.run(run_httpx([url], body, key, 4, 1.0))
            for count in REPLICAS:
                scenario = run_scenario(count, urls, body, key, args, folder, database_url, replicas, postgres_pid)
                results.append(scenario)
                print(f"{count} replica(s): {scenario.acked} acked, {scenario.lost} of them not stored", flush=True)
        finally:
            for process in replicas:
                stop(process)
            shutil.rmtree(folder, ignore_errors=True)
    report(results, args)


if __name__ == "__main__":
    main()
