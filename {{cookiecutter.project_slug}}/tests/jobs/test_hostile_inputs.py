"""Hostile files and params, as a new user brings them: every command trains saying what it did, or stops with one
sentence on stderr, and no Python traceback ever reaches the user.

Each case runs the real console script (`python -m {{ cookiecutter.package_name }} <command>`) in a subprocess, in a
small project folder of its own; the cases that need a champion share one project trained once.
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }}.params import params_file

from conftest import CITY, NUMBER, byod_frame

TASK = "{{ cookiecutter.task }}"
# The default model's regularisation strength (logistic regression's C, ridge's alpha): -1 is outside its range.
PENALTY = "C" if TASK == "classification" else "alpha"
TARGET = "Target?"
SOURCE = "data/external/byod.csv"


class Outcome(NamedTuple):
    code: int
    out: str
    err: str


def run(project: Path, *command: str) -> Outcome:
    """The console script in the project folder, with its MLflow store and prediction log in that folder too."""
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
        "MLFLOW_ARTIFACT_ROOT": str(project / "mlartifacts"),
        "DATABASE_URL": f"sqlite:///{project / 'predictions.db'}",
        "TRACEBACK": "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}", *command],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    outcome = Outcome(done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in outcome.out + outcome.err, outcome
    return outcome


def refused(outcome: Outcome, *phrases: str) -> None:
    """Non-zero exit and one line on stderr: a sentence written for the user, not an unexpected error."""
    assert outcome.code != 0, outcome
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1, outcome.err
    assert "] error: " in lines[0], lines[0]
    for phrase in phrases:
        assert phrase in lines[0], lines[0]


def new_project(root: Path, params: dict[str, Any] | None = None) -> Path:
    """A project folder (dvc.yaml, params.yaml reading data/external/byod.csv) without any data yet."""
    (root / "data" / "external").mkdir(parents=True)
    shutil.copy(params_file().parent / "dvc.yaml", root / "dvc.yaml")
    write_params(root, params or good_params())
    return root


def good_params() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(params_file().read_text(encoding="utf-8"))
    raw["data"] |= {"source": SOURCE, "target": TARGET}
    raw["split"]["test_size"] = 0.25
    return raw


def write_params(project: Path, raw: dict[str, Any] | str) -> None:
    text = raw if isinstance(raw, str) else yaml.safe_dump(raw, sort_keys=False)
    (project / "params.yaml").write_text(text, encoding="utf-8")


def csv_text(frame: pd.DataFrame, sep: str = ",") -> str:
    return frame.to_csv(index=False, sep=sep, lineterminator="\n")


def small(rows: int = 60) -> pd.DataFrame:
    return byod_frame(TASK, rows=rows)


def with_column(name: str, values: Any) -> bytes:
    frame = small()
    frame.insert(1, name, values)
    return csv_text(frame).encode()


def decimal_commas() -> bytes:
    return csv_text(small(), sep=";").replace(".", ",").encode()


def one_target_kind() -> bytes:
    frame = small()
    frame[TARGET] = "churned" if TASK == "classification" else frame[NUMBER].astype(str) + " years"
    return csv_text(frame).encode()


def only_unusable_features() -> bytes:
    frame = small()[[TARGET]]
    frame["country"] = "France"
    frame["id"] = [f"customer-{row}" for row in range(len(frame))]
    return csv_text(frame).encode()


# (data, whether ingest accepts it, what it says: a note on stdout, or the refusal on stderr)
DATA_CASES: dict[str, tuple[Callable[[], bytes], bool, str]] = {
    "empty": (lambda: b"", False, "is empty"),
    "header-only": (lambda: csv_text(small().head(0)).encode(), False, "a header but no rows"),
    "three-rows": (lambda: csv_text(small().head(3)).encode(), False, "training needs at least 20"),
    "one-class-or-text-target": (
        one_target_kind,
        False,
        "needs at least two classes" if TASK == "classification" else "holds text",
    ),
    "missing-target": (lambda: csv_text(small().drop(columns=TARGET)).encode(), False, "data.target is 'Target?'"),
    "ragged-rows": (lambda: csv_text(small()).encode() + b"1,2,3,4,5,6,7,8\n", False, "is not a regular CSV"),
    "only-unusable-features": (only_unusable_features, False, "no column of data/external/byod.csv can be a feature"),
    "latin-1": (lambda: csv_text(small().replace("Nantes", "Bézier")).encode("latin-1"), True, "Windows-1252"),
    "utf-8-bom": (lambda: b"\xef\xbb\xbf" + csv_text(small()).encode(), True, "byte-order mark"),
    "utf-16": (lambda: csv_text(small()).encode("utf-16"), True, "read UTF-16"),
    "semicolon-decimal-comma": (decimal_commas, True, "read decimal commas"),
    "tab": (lambda: csv_text(small(), sep="\t").encode(), True, "the tab"),
    "all-text-features": (lambda: csv_text(small().drop(columns=[NUMBER, "visits/month"])).encode(), True, "0 numeric"),
    "all-null-column": (lambda: with_column("notes", [None] * 60), True, "dropped column 'notes': every value"),
    "constant-column": (lambda: with_column("country", "France"), True, "dropped column 'country': it holds one"),
    "infinities": (lambda: with_column("ratio", [float("inf")] * 3 + [1.5] * 57), True, "3 infinite values"),
    "mixed-types": (lambda: with_column("score", ["n/a", "?"] + [str(n) for n in range(58)]), True, "mixes numbers"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", DATA_CASES)
def test_a_hostile_csv_is_read_saying_how_or_refused_in_one_sentence(case: str, tmp_path: Path) -> None:
    make, accepted, says = DATA_CASES[case]
    project = new_project(tmp_path)
    (project / SOURCE).write_bytes(make())
    ingested = run(project, "ingest")
    if not accepted:
        refused(ingested, says)
        assert not (project / "data/raw/data.csv").exists()
        return
    assert ingested.code == 0, ingested
    assert says in ingested.out, ingested.out
    # What ingest wrote is what every later stage reads: a plain UTF-8 CSV (`trained` below runs them on one).
    assert len(pd.read_csv(project / "data/raw/data.csv", encoding="utf-8")) >= 58


# (how params.yaml is broken, the command that reads it, what the one line names)
PARAMS_CASES: dict[str, tuple[Callable[[dict[str, Any]], Any], str, str]] = {
    "negative-margin": (lambda raw: raw["promote"].update(margin=-1), "split", "promote.margin is -1; it must be"),
    "test-size-above-1": (lambda raw: raw["split"].update(test_size=2), "split", "split.test_size is 2"),
    "wrong-type": (lambda raw: raw["monitor"].update(sample_size="many"), "ingest", "monitor.sample_size is 'many'"),
    "unknown-key": (lambda raw: raw["train"].update(sed=1), "train", "train.sed is not a known key"),
    "missing-section": (lambda raw: raw.pop("monitor"), "evaluate", "has no monitor section"),
    "unknown-task": (lambda raw: raw.update(task="clustering"), "validate", "task is 'clustering'"),
    "unknown-model": (lambda raw: raw["train"].update(model="xgboost"), "train", "train.model is 'xgboost'"),
    "bad-metric": (lambda raw: raw["promote"].update(metric="bleu"), "train", "promote.metric is 'bleu'"),
    "negative-estimators": (
        lambda raw: raw["train"].update(model="random_forest", hyperparameters={"n_estimators": -5}),
        "train",
        "'n_estimators' parameter",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", PARAMS_CASES)
def test_a_bad_param_is_one_line_naming_key_value_and_range(case: str, tmp_path: Path) -> None:
    breaks, command, says = PARAMS_CASES[case]
    raw = good_params()
    breaks(raw)
    project = new_project(tmp_path, raw)
    (project / SOURCE).write_text(csv_text(small()), encoding="utf-8")
    refused(run(project, command), says)
    assert sorted(path.name for path in project.rglob("*") if path.is_file()) == ["byod.csv", "dvc.yaml", "params.yaml"]


def test_broken_yaml_says_where(tmp_path: Path) -> None:
    project = new_project(tmp_path)
    text = (project / "params.yaml").read_text(encoding="utf-8").replace("  test_size:", " test_size:")
    write_params(project, text)
    refused(run(project, "split"), "params.yaml at line", "fix the indentation")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project through ingest, validate, split, train and promote, on a file as hostile as one can still be:
    latin-1, `;` with decimal commas, a constant, an empty and a mixed column, and infinities."""
    project = new_project(tmp_path_factory.mktemp("trained"))
    frame = small(80).replace("Nantes", "Bézier")
    frame.insert(1, "country", "France")
    frame.insert(1, "notes", None)
    frame.insert(1, "ratio", [float("inf")] * 3 + [1.5, 2.5] * 38 + [0.5])
    frame.insert(1, "score", ["n/a"] + [str(n) for n in range(79)])
    (project / SOURCE).write_bytes(csv_text(frame, sep=";").replace(".", ",").encode("latin-1"))
    for command in ("ingest", "validate", "split", "train", "promote"):
        outcome = run(project, command)
        assert outcome.code == 0, outcome
    return project


@pytest.mark.slow
def test_the_most_hostile_usable_file_trains_and_says_what_it_did(trained: Path) -> None:
    raw = pd.read_csv(trained / "data/raw/data.csv")
    assert "country" not in raw.columns and "notes" not in raw.columns
    assert raw["ratio"].isna().sum() == 3
    assert (trained / "models/run.json").is_file()
    assert set(raw[CITY].dropna()) == {"Lyon", "Paris", "Bézier"}


# The commands that need a champion, each with params broken in a way only it reads, or none broken at all.
@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "breaks", "says"),
    [
        (["promote"], lambda raw: raw["promote"].update(margin=-1), "promote.margin is -1"),
        (["retrain"], lambda raw: raw["retrain"].update(half_life=-3), "retrain.half_life is -3"),
        (["retrain"], lambda raw: raw["train"].update(hyperparameters={PENALTY: -1}), f"'{PENALTY}' parameter"),
        (["monitor"], lambda raw: raw["monitor"].update(drift_share=0), "monitor.drift_share is 0"),
        (["simulate", "--n", "5"], lambda raw: raw["data"].pop("target"), "data.target is missing"),
        (["evaluate"], lambda raw: raw["data"].update(range_tolerance="wide"), "data.range_tolerance is 'wide'"),
    ],
    ids=["promote", "retrain-params", "retrain-hyperparameter", "monitor", "simulate", "evaluate"],
)
def test_a_bad_param_changes_nothing_in_a_trained_project(
    trained: Path, command: list[str], breaks: Callable[[dict[str, Any]], Any], says: str
) -> None:
    before = {path: path.stat().st_mtime_ns for path in trained.rglob("*") if path.is_file()}
    raw = good_params()
    breaks(raw)
    write_params(trained, raw)
    try:
        refused(run(trained, *command), says)
    finally:
        write_params(trained, good_params())
    after = {path: path.stat().st_mtime_ns for path in trained.rglob("*") if path.is_file()}
    assert {path: mtime for path, mtime in after.items() if path.name != "params.yaml"} == {
        path: mtime for path, mtime in before.items() if path.name != "params.yaml"
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["monitor"],
        ["retrain"],
        ["simulate", "--n", "5", "--url", "http://127.0.0.1:9"],
        ["rollback"],
        ["history"],
        ["doctor"],
    ],
    ids=lambda command: command[0],
)
def test_commands_with_nothing_to_work_on_answer_in_a_sentence(trained: Path, command: list[str]) -> None:
    outcome = run(trained, *command)
    if outcome.code != 0:
        if command[0] == "doctor":  # doctor lists its findings on stdout, ✗ where something is broken
            assert "✗" in outcome.out and outcome.err == ""
        elif command[0] == "rollback":  # a refusal is the command's answer, on stdout: `[rollback] refused: ...`
            assert outcome.err == "" and outcome.out.strip().splitlines()[-1].startswith("[rollback] refused: ")
        else:
            refused(outcome)
