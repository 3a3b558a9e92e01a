"""`make demo`: bake a default project, train it, then tell the feedback loop's story in three acts on one service.

1. Calm traffic: no drift, quality holds.
2. Covariate drift: the inputs move, drift is flagged, quality holds; the retrained model stays @challenger, because
   it is no better on today's feedback (the gate protecting production).
3. Concept drift: the truth changes, which only feedback reveals (a quality breach), and two sources report it: the
   anonymous clients of the demo's service and a partner whose backend sends an API key (a second service process
   on the same store, started with API_KEY: its feedback's source is `default`). The retrained model wins on today's
   feedback only because the test-split guard is waived, and a metric cannot tell a changed world from wrong labels,
   so it waits as @challenger; the demo then does what a person would, `promote --approve VERSION --reason TEXT`,
   the running service reloads it without a restart, and monitoring of the traffic after the swap is back within
   the quality threshold.

Each act prints its figures; build/demo-summary.json holds every act's verdicts and figures for the slow test.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, NoReturn

import yaml  # cookiecutter reads its config with PyYAML, so the template venv has it
from cookiecutter.main import cookiecutter

# The template's one home for ports and processes, which the slow tests use too (`make demo` runs this file as a
# module from the template's root, so that `tests` is importable).
from tests.services import free_port, http_ok, start, stop, wait_until

TEMPLATE = Path(__file__).resolve().parents[1]
PACKAGE = "demo_product"
TRAFFIC = 200  # predictions per act; half of them get feedback
# Act 3 sends more: the gate keeps a slice of today's feedback aside and judges on it, the rest must be enough to
# learn from, and the slice and the traffic after the swap must be large enough that their scores can be compared
# (roc_auc on a few dozen rows moves by several percent from one sample to the next).
CONCEPT_TRAFFIC = 800
AFTER_SWAP_TRAFFIC = 400
# ...sent in rounds that alternate between the two sources, so that the newest feedback, where retrain draws the slice
# the gate judges on, holds both (a source's share of it is capped at retrain.max_source_share).
CONCEPT_ROUNDS = 8
PARTNER_KEY = "demo-partner-key"  # the partner's backend; the demo's own service has no key (anonymous clients)
APPROVAL_REASON = "demo: both sources report the same new truth, and monitoring flags neither"
CONCEPT_DRIFT = 9.0  # nine in ten of the outcomes follow the new truth (simulate --concept-drift)
COVARIATE_DRIFT = 1.5  # inputs moved by 1.5 standard deviations (simulate --drift)

# Read the gate's record from the newest version's MLflow run, with the baked project's own packages.
GATE_RECORD = """
import json
from mlflow import MlflowClient
from demo_product.settings import get_settings
settings = get_settings()
client = MlflowClient(settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri)
newest = max(client.search_model_versions(f"name='{settings.model_name}'"), key=lambda v: int(v.version))
run = client.get_run(newest.run_id)
print(json.dumps({
    "version": str(newest.version),
    "tags": {k: v for k, v in run.data.tags.items() if k.startswith("gate.")},
    "metrics": {k: v for k, v in run.data.metrics.items() if k.startswith("gate.")},
}))
"""


def step(
    title: str, command: list[str], cwd: Path, ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None
) -> str:
    """Run one lifecycle command in the baked project, echoing it and its output as it comes; stop the demo if it
    fails. Returns the output, from which the acts read what retrain told the service."""
    print(f"\n==> {title}: {' '.join(command)}", flush=True)
    started = time.perf_counter()
    lines = []
    with subprocess.Popen(
        command,
        cwd=cwd,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    if process.returncode not in ok:
        sys.exit(f"demo failed at '{title}' (exit {process.returncode})")
    print(f"    ({time.perf_counter() - started:.1f} s)")
    return "".join(lines)


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def demo_failed(message: str) -> NoReturn:
    sys.exit(f"demo failed: {message}")


class Story:
    """The three acts' commands against one running service, and what each act saw."""

    def __init__(self, project: Path, url: str, port: int) -> None:
        self.project, self.url = project, url
        self.cli = str(project / ".venv/bin" / PACKAGE)
        # retrain tells the service on 127.0.0.1:API_PORT to reload when @champion moves.
        self.env = {"API_PORT": str(port)}

    def traffic(self, title: str, n: int, seed: int, *drift: str, url: str = "", api_key: str = "") -> None:
        """Simulated users of the service at `url` (the demo's own by default), with API_KEY when given."""
        command = [self.cli, "simulate", "--url", url or self.url, "--n", str(n), "--feedback-rate", "0.5"]
        env = {"API_KEY": api_key} if api_key else None
        step(title, [*command, "--seed", str(seed), *drift], self.project, env=env)

    def monitor(self, title: str, n: int) -> dict[str, Any]:
        """Monitor the champion's last n predictions (exit 1 is a breach, an answer here) and read the summary."""
        step(title, [self.cli, "monitor", "--last", str(n)], self.project, ok=(0, 1))
        summary = json.loads((self.project / "reports/monitoring/latest/summary.json").read_text())
        metric = summary["quality_metric"]
        checks = {breach["check"] for breach in summary.get("breaches", [])}
        test = summary["champion_test"].get(metric)
        # What monitor judged the quality against: the test split, or the recent feedback the champion was promoted
        # on when that split no longer describes today (docs/monitoring.md, "The quality baseline").
        baseline = summary.get("quality_baseline") or {}
        expected = baseline.get("value")
        return {
            "model_version": summary["model_version"],
            "drift_share": summary["drift_share"],
            "drift_detected": summary["drift_detected"],
            "metric": metric,
            "quality": summary["quality"].get(metric),
            "n_labeled": summary["n_labeled"],
            "champion_test": test,
            "baseline": expected,
            "baseline_source": baseline.get("source"),
            "baseline_rows": baseline.get("rows"),
            "quality_threshold": None if expected is None else round(expected * (1 - self.metric_drop()), 6),
            "quality_breach": "quality" in checks,
            "report": summary["reports"].get("quality_html") or summary["reports"]["html"],
            # Per feedback source: its labelled rows, how often they contradict the model, and monitor's flag.
            "sources": {
                found["source"]: {key: found[key] for key in ("rows", "contradiction_share", "flagged")}
                for found in summary.get("sources", [])
            },
        }

    def metric_drop(self) -> float:
        """monitor.metric_drop from the baked project's params.yaml: the quality threshold's allowed relative drop."""
        params = yaml.safe_load((self.project / "params.yaml").read_text(encoding="utf-8"))
        return float(params["monitor"]["metric_drop"])

    def retrain(self, title: str) -> dict[str, Any]:
        """Retrain; the gate's decision and scores as recorded on the candidate's MLflow run; the service's version."""
        output = step(title, [self.cli, "retrain"], self.project, env=self.env)
        record = json.loads(
            subprocess.run(
                [str(self.project / ".venv/bin/python"), "-c", GATE_RECORD],
                cwd=self.project,
                text=True,
                capture_output=True,
                check=True,
            ).stdout
        )
        tags, scores = record["tags"], record["metrics"]
        notice = [line for line in output.splitlines() if "service on" in line or "no service answers" in line]
        return {
            "candidate": record["version"],
            "decision": tags.get("gate.decision"),
            "rule": tags.get("gate.rule"),
            "reason": tags.get("gate.reason"),
            "awaiting_approval": tags.get("gate.awaiting_approval") == "true",
            "scores": {name.removeprefix("gate."): value for name, value in scores.items()},
            "service_notice": notice[-1].removeprefix("[retrain] ") if notice else None,
            "served_version": str(get_json(f"{self.url}/model")["version"]),
        }

    def approve(self, title: str, version: str) -> dict[str, Any]:
        """What a person does after reading the evidence: serve the waiting @challenger, saying why."""
        command = [self.cli, "promote", "--approve", version, "--reason", APPROVAL_REASON]
        output = step(title, command, self.project, env=self.env)
        approved = [line for line in output.splitlines() if "approved by" in line]
        notice = [line for line in output.splitlines() if "service on" in line or "no service answers" in line]
        return {
            "version": version,
            "approved": approved[-1].removeprefix("[promote] ") if approved else None,
            "service_notice": notice[-1].removeprefix("[promote] ") if notice else None,
            "served_version": str(get_json(f"{self.url}/model")["version"]),
        }


def say_act(name: str, monitored: dict[str, Any], gate: dict[str, Any] | None = None) -> None:
    m = monitored
    quality = "n/a" if m["quality"] is None else f"{m['quality']:.3f}"
    threshold = "n/a" if m["quality_threshold"] is None else f"{m['quality_threshold']:.3f}"
    source = m["baseline_source"] or "test split"
    evidence = f"{m['baseline_rows']} {source} rows" if m["baseline_rows"] else f"the {source}"
    print(
        f"\n*** {name}: drift share {m['drift_share']:.0%} ({'DRIFT' if m['drift_detected'] else 'no drift'}); "
        f"{m['metric']} on {m['n_labeled']} labelled predictions of v{m['model_version']} {quality} against a "
        f"threshold of {threshold}, taken from {evidence} ({'BREACH' if m['quality_breach'] else 'holds'})"
    )
    if gate is not None:
        scores, metric = gate["scores"], m["metric"]

        def figure(who: str, where: str) -> str:
            value = scores.get(f"{who}_{where}_{metric}")
            return "n/a" if value is None else f"{value:.3f}"

        print(
            f"*** gate on the recent slice: v{gate['candidate']} {figure('candidate', 'recent')}, champion "
            f"{figure('champion', 'recent')}; on the test split: v{gate['candidate']} {figure('candidate', 'test')}, "
            f"champion {figure('champion', 'test')} -> @{gate['decision']}\n"
            f"    because {gate['reason']}\n"
            f"*** served version: v{gate['served_version']}; {gate['service_notice'] or 'the service was not told'}"
        )


def feedback_loop(project: Path, summary_file: Path) -> dict[str, Any]:
    """The three acts on one running service; returns (and writes) every act's verdicts and figures."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    story = Story(project, url, port)
    print(f"\n==> serve: {PACKAGE} serve --port {port}", flush=True)
    log = project / "serve.log"
    server = start([story.cli, "serve", "--port", str(port)], log, cwd=project)
    partner: subprocess.Popen[bytes] | None = None
    try:
        # Until the service has loaded the champion; stop the demo with the service's log if it died.
        wait_until(lambda: http_ok(f"{url}/ready"), "the service", server, log, 180, fail=demo_failed)
        first = str(get_json(f"{url}/model")["version"])
        story.traffic("act 1, calm traffic with feedback", TRAFFIC, 1)
        calm = story.monitor("act 1, monitor (no drift, quality holds)", TRAFFIC)
        say_act("act 1, calm", calm)

        story.traffic("act 2, covariate drift", TRAFFIC, 2, "--drift", str(COVARIATE_DRIFT))
        covariate = story.monitor("act 2, monitor (drift flagged, quality holds)", TRAFFIC)
        covariate_gate = story.retrain("act 2, retrain (the gate keeps the champion)")
        say_act("act 2, covariate drift", covariate, covariate_gate)

        # The partner's backend: a second service process on the same project (same store and registry) that asks
        # for API_KEY, so that its feedback's source is `default` while the demo's own clients stay `anonymous`.
        partner_port = free_port()
        partner_url = f"http://127.0.0.1:{partner_port}"
        print(f"\n==> serve the partner's door: API_KEY=... {PACKAGE} serve --port {partner_port}", flush=True)
        partner_log = project / "serve-partner.log"
        partner_command = [story.cli, "serve", "--port", str(partner_port)]
        partner = start(partner_command, partner_log, cwd=project, env={**os.environ, "API_KEY": PARTNER_KEY})
        wait_until(
            lambda: http_ok(f"{partner_url}/ready"),
            "the partner's service",
            partner,
            partner_log,
            180,
            fail=demo_failed,
        )
        drift = ("--concept-drift", str(CONCEPT_DRIFT))
        for round_number in range(CONCEPT_ROUNDS):
            seed, n = 30 + round_number, CONCEPT_TRAFFIC // CONCEPT_ROUNDS
            if round_number % 2:
                story.traffic(
                    "act 3, concept drift (partner, API key)", n, seed, *drift, url=partner_url, api_key=PARTNER_KEY
                )
            else:
                story.traffic("act 3, concept drift (anonymous clients)", n, seed, *drift)
        stop(partner, timeout=20)
        partner = None
        concept = story.monitor("act 3, monitor (quality breached through feedback)", CONCEPT_TRAFFIC)
        concept_gate = story.retrain("act 3, retrain (it wins only by the waived guard: it waits for a person)")
        say_act("act 3, concept drift", concept, concept_gate)
        approval = story.approve("act 3, a person approves the waiting challenger", concept_gate["candidate"])
        print(
            f"*** {approval['approved']}\n"
            f"*** served version: v{approval['served_version']}; {approval['service_notice'] or 'not told'}"
        )
        story.traffic("act 3, traffic after the swap", AFTER_SWAP_TRAFFIC, 4, "--concept-drift", str(CONCEPT_DRIFT))
        after = story.monitor(
            "act 3, monitor the new champion's traffic (quality back within the threshold)", AFTER_SWAP_TRAFFIC
        )
        say_act("act 3, after the swap", after)
        # Said aloud because the baseline moved with the champion, and a learner should know to what and why.
        print(
            f"*** v{after['model_version']} scores far worse on the first ingest's test split "
            f"({after['champion_test'] or 0:.3f}) than on today's feedback, so its quality is held to the score "
            f"that won it the promotion; {after['metric']} on feedback before and after the swap: "
            f"{concept['quality'] or 0:.3f} -> {after['quality'] or 0:.3f} (docs/monitoring.md, The quality baseline)"
        )
    finally:
        if partner is not None:
            stop(partner, timeout=20)
        stop(server, timeout=20)
    result = {
        "served_at_start": first,
        "acts": {
            "calm": {
                "monitor": calm,
                "verdicts": {"drift": calm["drift_detected"], "quality_breach": calm["quality_breach"]},
            },
            "covariate": {
                "monitor": covariate,
                "gate": covariate_gate,
                "verdicts": {
                    "drift": covariate["drift_detected"],
                    "quality_breach": covariate["quality_breach"],
                    "promoted": covariate_gate["decision"] == "champion",
                    "served_unchanged": covariate_gate["served_version"] == first,
                },
            },
            "concept": {
                "monitor": concept,
                "gate": concept_gate,
                "approval": approval,
                "after_swap": after,
                "verdicts": {
                    "quality_breach": concept["quality_breach"],
                    "sources": sorted(concept["sources"]),
                    "flagged_sources": sorted(name for name, found in concept["sources"].items() if found["flagged"]),
                    "waited_for_approval": concept_gate["decision"] == "challenger"
                    and concept_gate["awaiting_approval"],
                    "served_unchanged_while_waiting": concept_gate["served_version"] == first,
                    "promoted_after_approval": approval["served_version"] == concept_gate["candidate"],
                    "gate_rule": concept_gate["rule"],
                    "reloaded_without_restart": "reloaded without a restart" in (approval["service_notice"] or ""),
                    "after_swap_version": after["model_version"],
                    "after_swap_quality_breach": after["quality_breach"],
                    "after_swap_baseline": after["baseline_source"],
                    "after_swap_better": (after["quality"] or 0) > (concept["quality"] or 0),
                },
            },
        },
    }
    summary_file.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", type=Path, default=TEMPLATE / "build")
    args = parser.parse_args()

    build = args.build.resolve()
    project = build / PACKAGE
    if project.exists():
        shutil.rmtree(project)
    build.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    # Classification: the story's second act needs a truth that covariate drift leaves alone (see the slow tier).
    cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(build), extra_context={"project_name": "Demo Product"})
    step("install", ["make", "install"], project)
    step("pipeline (dvc repro, then promote)", ["make", "pipeline"], project)
    summary_file = build / "demo-summary.json"
    result = feedback_loop(project, summary_file)

    verdicts = {name: act["verdicts"] for name, act in result["acts"].items()}
    print(
        f"\nDemo finished in {time.perf_counter() - started:.0f} s. The baked project is {project}\n"
        f"  verdicts: {json.dumps(verdicts)}\n"
        f"  every figure: {summary_file}\n"
        f"  cd {project}\n"
        "  make help                 # every lifecycle command\n"
        "  make mlflow-ui            # runs, the gate's record on each version, the registry at http://127.0.0.1:5000\n"
        "  make serve                # then http://127.0.0.1:8000/docs and http://127.0.0.1:8000/monitoring\n"
    )


if __name__ == "__main__":
    main()
