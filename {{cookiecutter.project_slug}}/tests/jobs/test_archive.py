"""`db archive` on a real SQLite log: older rows and all their feedback move to Parquet, killed or not, exactly once."""

import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, func, insert, select

from {{ cookiecutter.package_name }}.io.prediction_archive import ARCHIVE, archive_files, to_table, write_durably
from {{ cookiecutter.package_name }}.jobs.archive import archive
from {{ cookiecutter.package_name }}.jobs.retrain import read_feedback
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.store.database import create_db_engine, upgrade
from {{ cookiecutter.package_name }}.store.ids import new_ids
from {{ cookiecutter.package_name }}.store.repository import (
    add_feedback,
    delete_archived,
    insert_predictions,
    oldest_predictions,
    record_model_version,
)
from {{ cookiecutter.package_name }}.store.tables import Feedback, Prediction

MODEL = "archive_model"
YOUNG = 50


class Log:
    """A project folder with a prediction log: `old` rows from 31 days back over months, YOUNG rows from yesterday."""

    def __init__(self, root: Path, old: int) -> None:
        (root / "dvc.yaml").write_text("stages: {}\n")
        (root / "params.yaml").write_text("{}\n")
        self.root = root
        self.url = f"sqlite:///{root / 'predictions.db'}"
        self.engine: Engine = create_db_engine(self.url)
        upgrade(self.engine)
        record_model_version(self.engine, MODEL, "1", None, {})
        now = datetime.now(UTC)
        ids = new_ids(old + YOUNG)
        # Ten minutes apart: a batch spans several days, so one batch writes into several day folders.
        moments = [now - timedelta(days=31, minutes=10 * i) for i in range(old)] + [now - timedelta(days=1)] * YOUNG
        insert_predictions(
            self.engine,
            [
                {
                    "id": prediction_id,
                    "created_at": moment,
                    "model_name": MODEL,
                    "model_version": "1",
                    "request_id": None,
                    "features": {"x": i, "city": "Oslo" if i % 2 else None},
                    "prediction": "yes" if i % 3 else "no",
                    "probabilities": {"no": 0.25, "yes": 0.75},
                    "out_of_range": ["x"] if i % 5 == 0 else None,
                }
                for i, (prediction_id, moment) in enumerate(zip(ids, moments, strict=True))
            ],
        )
        self.old, self.young = set(ids[:old]), set(ids[old:])
        # Every 7th prediction gets a label, every 21st a correction too: revisions 1 and 2.
        feedback = []
        for i, prediction_id in enumerate(ids):
            for revision in range(1, 1 + (i % 7 == 0) + (i % 21 == 0)):
                feedback.append(
                    {
                        "id": uuid.uuid4(),
                        "prediction_id": prediction_id,
                        "revision": revision,
                        "created_at": now,
                        "actual": "yes" if revision == 1 else "no",
                        "rating": None,
                        "comment": None,
                        "source": "default",
                    }
                )
        with self.engine.begin() as connection:
            connection.execute(insert(Feedback), feedback)
        self.revisions = Counter(row["prediction_id"] for row in feedback)

    @property
    def archive(self) -> Path:
        return self.root / ARCHIVE

    def run(self, *arguments: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "{{ cookiecutter.package_name }}", "db", "archive", *arguments],
            cwd=self.root,
            env={**os.environ, "DATABASE_URL": self.url, "TRACEBACK": ""},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def in_database(self) -> set[uuid.UUID]:
        with self.engine.connect() as connection:
            return set(connection.execute(select(Prediction.id)).scalars())

    def feedback_in_database(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(Feedback)).scalar_one())

    def assert_archived_exactly_once(self) -> None:
        """Every old row in exactly one file with all its revisions; the database holds only the young rows."""
        table = pq.ParquetDataset(self.archive).read()
        ids = [uuid.UUID(text) for text in table.column("id").to_pylist()]
        assert len(ids) == len(set(ids)), "a prediction is archived twice"
        assert set(ids) == self.old
        revisions = {i: len(f) for i, f in zip(ids, table.column("feedback").to_pylist(), strict=True)}
        assert {i: n for i, n in revisions.items() if n} == {
            i: self.revisions[i] for i in self.old if i in self.revisions
        }
        assert self.in_database() == self.young
        assert self.feedback_in_database() == sum(self.revisions[i] for i in self.young)


def fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_archive_moves_old_rows_and_their_feedback_then_a_second_run_changes_nothing(tmp_path: Path) -> None:
    log = Log(tmp_path, old=1200)
    first = log.run("--older-than", "30d", "--batch-size", "500")
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert "1200 predictions" in out and f"{sum(log.revisions[i] for i in log.old)} feedback revisions" in out
    log.assert_archived_exactly_once()
    files = archive_files(log.archive)
    assert all(path.parent.name.startswith("day=") for path in files)
    assert len({path.parent for path in files}) > 1  # partitioned by day
    row = pq.read_table(files[0]).to_pylist()[0]
    assert row["model_name"] == MODEL and row["probabilities"] == '{"no":0.25,"yes":0.75}'

    before = fingerprint(log.archive)
    second = log.run("--older-than", "30d")
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert "nothing changed" in out
    assert fingerprint(log.archive) == before
    log.assert_archived_exactly_once()


def test_into_a_volume_outside_any_project_as_the_cronjob_runs_it(tmp_path: Path) -> None:
    """The Kubernetes CronJob's pod has no checkout (no dvc.yaml above its working folder): `--into` is its volume."""
    project, volume, pod = tmp_path / "project", tmp_path / "volume", tmp_path / "pod"
    project.mkdir()
    pod.mkdir()
    log = Log(project, old=300)
    run = subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}", "db", "archive", "--older-than", "30d", "--into",
         str(volume / "predictions")],
        cwd=pod, env={**os.environ, "DATABASE_URL": log.url, "TRACEBACK": ""},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"moved to {volume / 'predictions'}/" in run.stdout and "not versioned" in run.stdout
    assert not log.archive.exists() and not list(pod.iterdir())
    table = pq.ParquetDataset(volume / "predictions").read()
    assert {uuid.UUID(text) for text in table.column("id").to_pylist()} == log.old
    assert log.in_database() == log.young


@pytest.mark.posix  # SIGKILL
def test_sigkill_mid_archive_then_a_rerun_loses_nothing_and_archives_nothing_twice(tmp_path: Path) -> None:
    log = Log(tmp_path, old=20_000)
    killed = log.run("--older-than", "30d", "--batch-size", "200")
    # Kill it once some batches are durable and deleted, while most are still to do.
    deadline = time.monotonic() + 120
    while len(archive_files(log.archive)) < 10 if log.archive.exists() else True:
        assert killed.poll() is None, "the archive finished before it could be killed: give it more rows"
        assert time.monotonic() < deadline, "no archive file appeared"
        time.sleep(0.01)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    left = log.in_database()
    assert log.young < left and left != log.young | log.old  # stopped part-way

    rerun = log.run("--older-than", "30d", "--batch-size", "200")
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    log.assert_archived_exactly_once()


def test_a_batch_left_durable_but_not_deleted_is_replaced_not_duplicated(tmp_path: Path) -> None:
    """What a kill between the write and the delete leaves: a whole file of rows still in the log, and a torn
    temporary file of the next one. The rerun writes the same name over the first and never reads the second."""
    log = Log(tmp_path, old=300)
    cutoff = datetime.now(UTC) - timedelta(days=30)
    batch = oldest_predictions(log.engine, cutoff, 100)
    day = batch[0][0].created_at.date().isoformat()
    day_rows = [row for row in batch if row[0].created_at.date().isoformat() == day]
    left = log.archive / f"day={day}" / f"part-{batch[0][0].id}.parquet"
    write_durably(to_table(day_rows), left)
    (left.parent / ".part-torn.parquet.tmp").write_bytes(b"PAR1 torn")

    moved = archive(log.engine, log.archive, cutoff, batch_size=100)
    assert moved.predictions == 300
    log.assert_archived_exactly_once()


def test_a_revision_posted_after_the_export_stops_the_delete(tmp_path: Path) -> None:
    log = Log(tmp_path, old=10)
    batch = oldest_predictions(log.engine, datetime.now(UTC) - timedelta(days=30), 10)
    counts = {prediction.id: len(revisions) for prediction, revisions in batch}
    add_feedback(log.engine, batch[0][0].id, "late label")
    assert delete_archived(log.engine, counts) is False
    assert log.in_database() == log.old | log.young  # nothing deleted: the next batch exports it again


@pytest.mark.parametrize("older_than", ["abc", "-3d", "0d", "30x"])
def test_a_bad_older_than_is_one_sentence_and_exit_2(tmp_path: Path, older_than: str) -> None:
    log = Log(tmp_path, old=5)
    bad = log.run("--older-than", older_than)  # -3d as its own word, as a user types it
    out, err = bad.communicate(timeout=120)
    assert bad.returncode == 2, out + err
    assert "Traceback" not in out + err
    assert "--older-than" in err and "30d" in err
    assert log.in_database() == log.old | log.young
    assert not log.archive.exists()


def test_retrain_reads_the_same_labelled_rows_after_an_archive_as_before(tmp_path: Path) -> None:
    log = Log(tmp_path, old=400)
    settings = Settings(_env_file=None, database_url=log.url, model_name=MODEL)
    before = read_feedback(settings, log.archive)
    assert archive(log.engine, log.archive, datetime.now(UTC) - timedelta(days=30), batch_size=150).predictions == 400
    after = read_feedback(settings, log.archive)
    assert len(after) == len(before) == sum(1 for i in log.old | log.young if i in log.revisions)

    def key(row: dict[str, object]) -> tuple[object, ...]:
        return row["prediction_id"], row["actual"], row["source"], str(row["features"]), row["created_at"]

    assert sorted(map(key, after)) == sorted(map(key, before))  # the corrected label (revision 2) included
