"""Prediction log: served model versions, predictions and feedback with revisions.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("version", sa.String(50), primary_key=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("lineage", JSON, nullable=False),
        sa.Column("first_served_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "predictions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(50), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("features", JSON, nullable=False),
        sa.Column("prediction", JSON, nullable=False),
        sa.Column("probabilities", JSON, nullable=True),
        sa.ForeignKeyConstraint(["model_name", "model_version"], ["model_versions.name", "model_versions.version"]),
    )
    op.create_index("ix_predictions_created_at", "predictions", ["created_at"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("prediction_id", sa.Uuid(), sa.ForeignKey("predictions.id"), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("actual", JSON, nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("source", sa.String(100), nullable=True),
        sa.UniqueConstraint("prediction_id", "revision", name="uq_feedback_prediction_revision"),
    )
    op.create_index("ix_feedback_prediction_id", "feedback", ["prediction_id"])


def downgrade() -> None:
    op.drop_index("ix_feedback_prediction_id", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_predictions_created_at", table_name="predictions")
    op.drop_table("predictions")
    op.drop_table("model_versions")
