"""Engines for the prediction log (SQLite by default, PostgreSQL when DATABASE_URL says so) and its migrations."""

from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text

MIGRATIONS = Path(__file__).with_name("migrations")
# Execution option marking a connection that will write: on SQLite it takes the write lock at BEGIN.
WRITE = {"store_write": True}
# SQLite checkpoints (copies the WAL into the database file, then fsyncs it) from inside the commit that crosses
# 1000 pages by default. An engine with background checkpoints raises that bound for when `checkpoint` falls behind.
BACKGROUND_AUTOCHECKPOINT_PAGES = 10_000


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _json_loads(value: Any) -> Any:
    # SQLite gives a column declared JSON numeric affinity: a scalar number (a label, an actual) comes back as one.
    return value if isinstance(value, int | float) else orjson.loads(value)


def create_db_engine(url: str, background_checkpoints: bool = False) -> Engine:
    """An engine whose committed transactions are durable before the caller is answered.

    `background_checkpoints` (SQLite): commits leave checkpoints to whoever calls `checkpoint`, as the service does
    from a thread, so that a request never waits for the fsync of the database file (docs/performance.md, Storage).
    """
    # A server database may drop idle connections (restart, failover): test each one on checkout. A file needs not.
    pre_ping = not url.startswith("sqlite")
    engine = create_engine(url, json_serializer=_json_dumps, json_deserializer=_json_loads, pool_pre_ping=pre_ping)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, BACKGROUND_AUTOCHECKPOINT_PAGES if background_checkpoints else None)
    return engine


def checkpoint(engine: Engine) -> None:
    """Copy the SQLite WAL into the database file, without waiting for readers or writers (PASSIVE)."""
    if engine.dialect.name != "sqlite":
        return
    connection = engine.raw_connection()
    try:
        # Outside any transaction (the connection is in autocommit mode): a checkpoint cannot run inside one.
        connection.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # type: ignore[union-attr]
    finally:
        connection.close()


def _configure_sqlite(engine: Engine, autocheckpoint_pages: int | None) -> None:
    # WAL lets readers (GET /predictions, /ready) run beside the writer. With WAL, synchronous=NORMAL still makes a
    # commit durable against a crash of the service (SIGKILL, OOM kill): COMMIT returns once the WAL frames are
    # written to the OS, which keeps them whatever happens to the process. Only an OS crash or power cut can lose the
    # last commits; FULL would fsync every commit against that too, at about half the measured throughput. Where
    # power loss must not cost a row, use PostgreSQL. busy_timeout makes a second writer (another uvicorn worker,
    # `db upgrade`) wait instead of failing.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand BEGIN to SQLAlchemy (below) instead of the sqlite3 module's implicit, DML-only transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        pragmas = ["journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000", "foreign_keys=ON"]
        if autocheckpoint_pages is not None:
            pragmas.append(f"wal_autocheckpoint={autocheckpoint_pages}")
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A write transaction takes the lock up front: a deferred one that read first could not upgrade its snapshot
        # once another worker committed, and would fail with SQLITE_BUSY instead of waiting for busy_timeout.
        immediate = connection.get_execution_options().get("store_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def alembic_config(engine: Engine) -> Config:
    """Alembic configured from code, so migrations run from an installed package without an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration; concurrent callers are serialised (see migrations/env.py)."""
    command.upgrade(alembic_config(engine), "head")


def schema_is_current(engine: Engine) -> bool:
    """Whether the database is at the newest migration."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


def has_prediction_log(engine: Engine) -> bool:
    """Whether the prediction log's tables exist: not before the service (or `db upgrade`) first ran."""
    return inspect(engine).has_table("predictions")


def ping(engine: Engine) -> None:
    """Raise if the database cannot be reached."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
