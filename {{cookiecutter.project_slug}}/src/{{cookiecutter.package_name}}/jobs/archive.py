"""`db archive`: move the predictions older than a cutoff, with all their feedback, to Parquet, then delete them.

The prediction log only grows (about 1.1 KB a prediction). This bounds it: each batch of the oldest rows is written
to data/archive/predictions/ (io/prediction_archive.py: durable before this goes on), read back, and only the ids
found in the durable files are deleted, in one transaction per batch. Killed at any point, a rerun finds the same
oldest rows still in the database, writes the same file names again (replacing what a killed run left) and deletes
them: nothing is lost and nothing is archived twice. With nothing older than the cutoff, nothing changes.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from pathlib import Path

from sqlalchemy import Engine

from ..io.prediction_archive import ARCHIVE, archived_ids, day_of, file_for, to_table, write_durably
from ..settings import find_project_root, get_settings
from ..store.database import create_db_engine, has_prediction_log
from ..store.repository import delete_archived, oldest_predictions
from .context import say

# Rows per delete transaction. On SQLite a write transaction excludes every other writer, so while it runs the
# service's inserts of new predictions wait (up to busy_timeout): a few thousand rows keep each wait to about a
# second at worst on a busy machine (docs/performance.md, Archive), where one transaction over a month of rows
# would hold the service for minutes. On PostgreSQL a smaller transaction holds fewer row locks and gives
# autovacuum dead rows to reclaim as it goes.
BATCH_SIZE = 5000
# Progress every this many batches: a month of a busy service is hundreds of them.
PROGRESS_EVERY = 20


@dataclass
class Archived:
    """What one run moved: predictions, feedback revisions, Parquet files written."""

    predictions: int = 0
    feedback: int = 0
    files: int = 0


def archive_batch(engine: Engine, root: Path, cutoff: datetime, batch_size: int) -> Archived | None:
    """Archive, then delete, the oldest batch before `cutoff`; None when there is none left.

    A batch whose rows got a new feedback revision between the export and the delete is deleted on the next call,
    exported again with it (the same first id: the same file names, replaced).
    """
    batch = oldest_predictions(engine, cutoff, batch_size)
    if not batch:
        return None
    written: list[Path] = []
    for day, rows in groupby(batch, key=lambda row: day_of(row[0].created_at)):
        day_rows = list(rows)
        path = file_for(root, day, day_rows[0][0].id)
        write_durably(to_table(day_rows), path)
        written.append(path)
    durable: set[uuid.UUID] = {prediction_id for path in written for prediction_id in archived_ids(path)}
    counts = {prediction.id: len(revisions) for prediction, revisions in batch if prediction.id in durable}
    if not delete_archived(engine, counts):
        return Archived()
    return Archived(predictions=len(counts), feedback=sum(counts.values()), files=len(written))


def archive(engine: Engine, root: Path, cutoff: datetime, batch_size: int = BATCH_SIZE) -> Archived:
    """Every prediction created before `cutoff`, batch by batch, until none is left."""
    total = Archived()
    batches = 0
    while (moved := archive_batch(engine, root, cutoff, batch_size)) is not None:
        total.predictions += moved.predictions
        total.feedback += moved.feedback
        total.files += moved.files
        batches += 1
        if batches % PROGRESS_EVERY == 0:
            say("archive", f"{total.predictions} predictions archived so far")
    return total


def main(older_than: timedelta, batch_size: int = BATCH_SIZE, into: Path | None = None) -> int:
    """Archive into `into`, or the project's data/archive/predictions/ (which `make archive` then adds to DVC)."""
    settings = get_settings()
    engine = create_db_engine(settings.database_url)
    cutoff = datetime.now(UTC) - older_than
    root = into if into is not None else find_project_root() / ARCHIVE
    if not has_prediction_log(engine):
        say("archive", "no prediction log yet (the service never ran): nothing to archive")
        return 0
    moved = archive(engine, root, cutoff, batch_size)
    if moved.predictions == 0:
        say("archive", f"no prediction older than {cutoff.isoformat(timespec='seconds')}: nothing changed")
        return 0
    versioning = (
        f"`make archive` also runs `dvc add {ARCHIVE}`; `dvc push` sends it to the remote"
        if into is None
        else f"not versioned: copy it into the project's {ARCHIVE}/ and `dvc add` it there (docs/team-stack.md)"
    )
    say(
        "archive",
        f"{moved.predictions} predictions before {cutoff.isoformat(timespec='seconds')} and their "
        f"{moved.feedback} feedback revisions moved to {ARCHIVE if into is None else into}/ ({moved.files} files), "
        f"then deleted from the prediction log ({versioning})",
    )
    return 0
