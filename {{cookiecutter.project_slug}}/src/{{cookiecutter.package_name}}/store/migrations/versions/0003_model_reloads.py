"""Model reloads: each swap of the served model, which every worker and replica sharing the log then follows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_reloads",
        # Increasing ids: a worker remembers the last one it applied and looks only for a larger one.
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("model_reloads")
