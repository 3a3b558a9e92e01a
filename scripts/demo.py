"""`make demo`: bake a default project into a build folder, install it and run its lifecycle end to end.

After the pipeline it closes the loop: serve the champion, send normal then drifted traffic with feedback, monitor
each (no drift, then drift and quality from feedback), retrain on the feedback and run the promotion gate.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]


def step(title: str, command: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    """Run one lifecycle command in the baked project, echoing it, and stop the demo if it fails."""
    print(f"\n==> {title}: {' '.join(command)}", flush=True)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    if result.returncode not in ok:
        sys.exit(f"demo failed at '{title}' (exit {result.returncode})")
    print(f"    ({time.perf_counter() - started:.1f} s)")
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float = 180.0) -> None:
    """Poll /ready until the service has loaded the champion; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"demo failed: the service exited with {server.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit(f"demo failed: {url}/ready did not answer 200 within {timeout:.0f} s")


def stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the service we started, by its PID: SIGTERM for a graceful shutdown, SIGKILL if it hangs."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def latest_summary(project: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((project / "reports/monitoring/latest/summary.json").read_text())
    return summary


def feedback_loop(project: Path, package: str) -> list[dict[str, Any]]:
    """Serve, simulate, monitor, simulate drift, monitor, retrain; returns the two monitoring summaries."""
    cli = str(project / ".venv/bin" / package)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    print(f"\n==> serve: {package} serve --port {port}", flush=True)
    log = (project / "serve.log").open("wb")
    server = subprocess.Popen([cli, "serve", "--port", str(port)], cwd=project, stdout=log, stderr=subprocess.STDOUT)
    summaries = []
    try:
        wait_ready(url, server)
        traffic = ["--url", url, "--n", "200", "--feedback-rate", "0.5"]
        step("normal traffic with feedback", [cli, "simulate", *traffic, "--seed", "1"], project)
        step("monitor (no drift expected)", [cli, "monitor", "--last", "200"], project)
        summaries.append(latest_summary(project))
        step("drifted traffic with feedback", [cli, "simulate", *traffic, "--drift", "1.5", "--seed", "2"], project)
        # Exit 1 is the expected answer here: drift is a breach.
        step("monitor (drift expected)", [cli, "monitor", "--last", "200"], project, ok=(0, 1))
        summaries.append(latest_summary(project))
    finally:
        stop(server)
        log.close()
    normal, drifted = summaries
    if normal["drift_detected"] or not drifted["drift_detected"] or not drifted["quality"]:
        sys.exit("demo failed: expected no drift on normal traffic, then drift and quality from feedback")
    step("retrain on the feedback, then the promotion gate", [cli, "retrain"], project)
    return summaries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", type=Path, default=TEMPLATE / "build")
    parser.add_argument("--task", choices=["classification", "regression"], default="classification")
    args = parser.parse_args()

    build = args.build.resolve()
    project = build / "demo_product"
    if project.exists():
        shutil.rmtree(project)
    build.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    cookiecutter(
        str(TEMPLATE),
        no_input=True,
        output_dir=str(build),
        extra_context={"project_name": "Demo Product", "task": args.task},
    )
    step("install", ["make", "install"], project)
    step("pipeline (dvc repro, then promote)", ["make", "pipeline"], project)
    step("metrics", [".venv/bin/dvc", "metrics", "show"], project)
    normal, drifted = feedback_loop(project, "demo_product")

    metric = drifted["quality_metric"]
    print(
        f"\nDemo finished in {time.perf_counter() - started:.0f} s. The baked project is {project}\n"
        f"  normal traffic:  drift share {normal['drift_share']:.0%}, no drift  -> {normal['reports']['html']}\n"
        f"  drifted traffic: drift share {drifted['drift_share']:.0%}, DRIFT, {metric} on {drifted['n_labeled']}"
        f" labelled predictions {drifted['quality'].get(metric)} (test split {drifted['champion_test'].get(metric)})\n"
        f"                   -> {drifted['reports']['html']}\n"
        f"                   -> {drifted['reports'].get('quality_html')}\n"
        f"  cd {project}\n"
        "  make help                 # every lifecycle command\n"
        "  make mlflow-ui            # runs, plots and the registry (both versions) at http://127.0.0.1:5000\n"
        "  make serve                # then http://127.0.0.1:8000/docs and http://127.0.0.1:8000/monitoring\n"
    )


if __name__ == "__main__":
    main()
