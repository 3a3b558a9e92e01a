"""The prediction log and feedback store: SQLAlchemy tables, engine setup, Alembic migrations and queries."""
