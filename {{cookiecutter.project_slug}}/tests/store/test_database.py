"""The prediction log's SQLite engine: commits leave checkpoints to the background when asked, and they happen."""

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import text

from {{ cookiecutter.package_name }}.store.database import checkpoint, create_db_engine


def write_pages(url: str, background_checkpoints: bool, rows: int = 1500) -> tuple[int, int]:
    """Commit rows of about 4 KB one by one (over SQLite's 1000-page default); (WAL frames left, engine's bound)."""
    engine = create_db_engine(url, background_checkpoints=background_checkpoints)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS filler (body TEXT)"))
    for _ in range(rows):
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO filler VALUES (:body)"), {"body": "x" * 4000})
    with engine.connect() as connection:
        bound = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
    raw = engine.raw_connection()
    try:
        _, frames, _ = raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()  # type: ignore[union-attr]
    finally:
        raw.close()
    engine.dispose()
    return frames, bound


def test_background_checkpoints_keep_commits_from_checkpointing(tmp_path: Path) -> None:
    frames, bound = write_pages(f"sqlite:///{tmp_path / 'background.db'}", background_checkpoints=True)
    assert bound > 1000
    assert frames > 1000  # the WAL kept every commit: none of them stopped to checkpoint


def test_default_engines_checkpoint_in_the_commit_as_sqlite_does(tmp_path: Path) -> None:
    frames, bound = write_pages(f"sqlite:///{tmp_path / 'default.db'}", background_checkpoints=False)
    assert bound == 1000
    assert frames < 1100


def rows_in_the_file_alone(database: Path, copy: Path) -> int:
    """Rows that a copy of the database file sees without its WAL: those already checkpointed."""
    shutil.copyfile(database, copy)
    with closing(sqlite3.connect(copy)) as connection:
        count: int = connection.execute("SELECT count(*) FROM filler").fetchone()[0]
    return count


def test_checkpoint_copies_the_wal_into_the_database_file(tmp_path: Path) -> None:
    database = tmp_path / "checkpointed.db"
    engine = create_db_engine(f"sqlite:///{database}", background_checkpoints=True)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE filler (body TEXT)"))
    checkpoint(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO filler VALUES ('committed')"))
    assert rows_in_the_file_alone(database, tmp_path / "before.db") == 0
    checkpoint(engine)
    assert rows_in_the_file_alone(database, tmp_path / "after.db") == 1
    engine.dispose()
