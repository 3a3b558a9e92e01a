"""Predictions flag the numeric features that lie outside the model's expected range.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    # Nullable: rows logged before this revision were never checked, and in-range rows stay null.
    op.add_column("predictions", sa.Column("out_of_range", JSON, nullable=True))


def downgrade() -> None:
    # batch_alter_table: SQLite cannot drop a column in place on every version; alembic copies the table instead.
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("out_of_range")
