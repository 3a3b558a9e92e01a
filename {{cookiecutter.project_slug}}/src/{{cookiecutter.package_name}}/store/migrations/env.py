"""Alembic environment: one transaction per upgrade, serialised between processes that start at the same time."""

from alembic import context
from sqlalchemy import Engine, text

from {{ cookiecutter.package_name }}.store.database import WRITE, create_db_engine
from {{ cookiecutter.package_name }}.store.tables import Base

config = context.config
# Any constant: PostgreSQL sessions holding the same advisory lock id run their migrations one after the other.
MIGRATION_LOCK_ID = 7_414_291


def run_migrations_offline() -> None:
    """Print the SQL (`alembic upgrade --sql`) instead of running it."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine: Engine = config.attributes.get("engine") or create_db_engine(str(config.get_main_option("sqlalchemy.url")))
    # Several uvicorn workers migrate at start: on SQLite the write transaction (BEGIN IMMEDIATE) makes the others
    # wait, on PostgreSQL the advisory lock does; the waiters then find the schema current and do nothing.
    with engine.execution_options(**WRITE).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            transactional_ddl=True,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
