"""The verdicts of `doctor`: only a broken check fails it, each line names the next command, --json has one shape."""

import re
from datetime import UTC, datetime

from {{ cookiecutter.package_name }}.core.doctor_checks import (
    MIN_FREE_BYTES,
    Check,
    PortHolder,
    champion_check,
    disk_check,
    exit_code,
    feedback_check,
    format_line,
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

LINE = re.compile(r"^(✓ [\w:-]+: [^>]+|[·✗] [\w:-]+: .+ -> next: .+)$")


def test_a_python_older_than_requires_python_is_broken_and_a_newer_one_is_fine() -> None:
    old = python_check((3, 10, 14), ">=3.11")
    assert (old.status, old.detail) == ("broken", "3.10.14 is older than the project's requires-python >=3.11")
    assert old.next is not None and "3.11" in old.next
    assert python_check((3, 13, 0), ">=3.11").status == "ok"
    assert python_check((3, 11, 0), ">= 3.11").status == "ok"


def test_a_missing_git_identity_is_a_step_to_take_and_a_missing_git_is_broken() -> None:
    assert git_identity_check(True, None).status == "todo"
    assert "git config --global user.name" in str(git_identity_check(True, None).next)
    assert git_identity_check(False, None).status == "broken"
    assert git_identity_check(True, "Ada <ada@example.com>") == Check("git-identity", "ok", "Ada <ada@example.com>")


def test_a_nearly_full_disk_is_broken() -> None:
    assert disk_check(MIN_FREE_BYTES - 1, "/p").status == "broken"
    assert disk_check(MIN_FREE_BYTES * 20, "/p").detail == "20.0 GB free in /p"


def test_a_port_held_by_another_program_is_broken_and_says_how_to_get_past_it() -> None:
    assert port_check("API_PORT", 8000, None, "make serve API_PORT=8010") == Check(
        "port:API_PORT", "ok", "8000 is free"
    )
    ours = port_check("API_PORT", 8000, PortHolder(ours=True, description="this project's service"), "unused")
    assert (ours.status, ours.detail) == ("ok", "8000 is held by this project's service")
    taken = port_check(
        "MLFLOW_PORT", 5000, PortHolder(False, "ControlCenter (pid 42)", 42), "make mlflow-ui MLFLOW_PORT=5010"
    )
    assert taken == Check(
        "port:MLFLOW_PORT",
        "broken",
        "5000 is held by ControlCenter (pid 42)",
        "stop it (kill 42) or use another port: make mlflow-ui MLFLOW_PORT=5010",
    )
    unknown = port_check("API_PORT", 8000, PortHolder(False, "another program"), "make serve API_PORT=8010")
    assert unknown.next == "use another port: make serve API_PORT=8010"


def test_java_is_read_from_java_version_and_only_breaks_doctor_when_pyspark_cannot_start() -> None:
    assert java_version('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment') == 17
    assert java_version('java version "1.8.0_292"') == 8
    assert java_version('openjdk version "21" 2023-09-19') == 21
    assert java_version("bash: java: command not found") is None
    assert java_check(17, has_pyspark=True).status == "ok"
    assert java_check(21, has_pyspark=False) == Check("java", "ok", "Java 21, which score --engine spark runs on")
    # Without pyspark nothing needs Java: the line says what the Spark engine would need, and fails nothing.
    for found in (None, 8):
        assert java_check(found, has_pyspark=False).status == "ok"
        assert "only score --engine spark needs Java 17 or newer" in java_check(found, has_pyspark=False).detail
    old = java_check(11, has_pyspark=True)
    assert (old.status, old.detail) == (
        "broken",
        "Java 11, but score --engine spark (pyspark is installed) needs Java 17 or newer",
    )
    assert old.next is not None and "JAVA_HOME" in old.next
    assert java_check(None, has_pyspark=True).detail.startswith("no Java, but")
    assert all(LINE.match(format_line(java_check(v, p))) for v in (None, 11, 17) for p in (True, False))


def test_install_and_pipeline_steps_not_taken_are_todo() -> None:
    assert installed_check(False, None, None, "/p").next == "make install"
    assert installed_check(True, "0.1.0", "/elsewhere/pkg/__init__.py", "/p").status == "todo"
    assert installed_check(True, "0.1.0", "/p/src/pkg/__init__.py", "/p").status == "ok"
    assert pipeline_check({"ingest": []}, has_lock=False) == Check(
        "pipeline", "todo", "never run (no dvc.lock)", "make pipeline"
    )
    assert pipeline_check({"train": [], "evaluate": []}, has_lock=True).detail == "stages changed: train, evaluate"
    assert pipeline_check({}, has_lock=True).status == "ok"
    assert pipeline_check(None, has_lock=True, error="ERROR: dvc.yaml is invalid").status == "broken"


def test_a_champion_whose_files_are_gone_is_broken_and_one_not_promoted_yet_is_todo() -> None:
    uri = "models:/m@champion"
    assert champion_check(uri, None, 0).next == "make pipeline"
    assert champion_check(uri, None, 2).next == "make promote"
    assert champion_check(uri, "3", 3) == Check("champion", "ok", "models:/m@champion is version 3")
    assert champion_check(uri, "3", 3, missing_files="/p/mlartifacts/1").status == "broken"
    assert champion_check(uri, None, 0, server_down="http://127.0.0.1:5000").status == "todo"


def test_the_service_is_todo_when_down_broken_when_not_ready_and_todo_when_it_serves_an_old_champion() -> None:
    url = "http://127.0.0.1:8010"
    down = service_check(url, None, None, "2", "make serve API_PORT=8010")
    assert (down.status, down.next) == ("todo", "make serve API_PORT=8010")
    not_ready = {"status": "not ready", "reasons": ["no model loaded: no champion"]}
    assert (
        service_check(url, not_ready, 503, None, "make serve").detail
        == f"{url} is not ready: no model loaded: no champion"
    )
    assert service_check(url, None, 404, None, "make serve").status == "broken"
    ready = {"status": "ready", "model": "m", "model_version": "2"}
    assert service_check(url, ready, 200, "2", "make serve") == Check("service", "ok", f"{url} serves m version 2")
    stale = service_check(url, ready, 200, "3", "make serve")
    assert stale.status == "todo" and "/admin/reload" in str(stale.next)


def test_logged_traffic_and_monitoring_verdicts() -> None:
    assert predictions_check(None).status == predictions_check(0).status == "todo"
    assert predictions_check(None, "file is not a database").status == "broken"
    assert predictions_check(12) == Check("predictions", "ok", "12 logged")
    assert feedback_check(4, 12) == Check("feedback", "ok", "on 4 of 12 predictions")
    assert monitoring_check(None, None, None, []).next == "make monitor"
    when = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    calm = monitoring_check(when, "2", 0.1, [])
    assert calm == Check(
        "monitoring", "ok", "latest run 2026-11-26 09:30 UTC on version 2, drift share 0.10, no threshold crossed"
    )
    # A breach is news, not a broken installation: doctor stays at exit 0 and points at the retraining.
    breached = monitoring_check(when, "2", 0.8, ["drift_share"])
    assert (breached.status, breached.next) == ("todo", "make retrain")


def test_only_a_broken_check_fails_and_every_line_has_the_documented_shape() -> None:
    checks = [
        Check("python", "ok", "3.11.9"),
        Check("pipeline", "todo", "never run (no dvc.lock)", "make pipeline"),
        Check("port:API_PORT", "broken", "8000 is held by nginx", "use another port: make serve API_PORT=8010"),
    ]
    assert exit_code(checks[:2]) == 0
    assert exit_code(checks) == 1
    assert format_line(checks[1]) == "· pipeline: never run (no dvc.lock) -> next: make pipeline"
    assert all(LINE.match(line) for line in format_text(checks).splitlines())
    assert to_json(checks) == {
        "checks": [
            {"check": "python", "status": "ok", "detail": "3.11.9", "next": None},
            {"check": "pipeline", "status": "todo", "detail": "never run (no dvc.lock)", "next": "make pipeline"},
            {
                "check": "port:API_PORT",
                "status": "broken",
                "detail": "8000 is held by nginx",
                "next": "use another port: make serve API_PORT=8010",
            },
        ],
        "broken": 1,
    }
