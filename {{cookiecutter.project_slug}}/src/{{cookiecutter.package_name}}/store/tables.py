"""Tables of the prediction log: served model versions, predictions, the feedback on them, and model reloads."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, Uuid

# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere: same Python values on every dialect.
JsonType = JSON().with_variant(JSONB(), "postgresql")
# The same, with Python None stored as SQL NULL rather than JSON null: `IS NULL` then finds it, as a count needs.
NullableJsonType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every dialect (SQLite keeps no offset, so it is stored naive in UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class ModelVersion(Base):
    """A registry version the service has loaded, with the lineage of the run that produced it."""

    __tablename__ = "model_versions"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[str] = mapped_column(String(50), primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(64))
    # git commit, dirty flag and the DVC md5s of the raw, train and test data, copied from the run's tags.
    lineage: Mapped[dict[str, Any]] = mapped_column(JsonType)
    first_served_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Prediction(Base):
    """One answered prediction: committed before its response is sent."""

    __tablename__ = "predictions"
    __table_args__ = (
        ForeignKeyConstraint(["model_name", "model_version"], ["model_versions.name", "model_versions.version"]),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    model_name: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(50))
    request_id: Mapped[str | None] = mapped_column(String(128))
    # The raw features under their original names, as the client sent them (nulls included).
    features: Mapped[dict[str, Any]] = mapped_column(JsonType)
    # A class label (str or int) or a number.
    prediction: Mapped[Any] = mapped_column(JsonType)
    probabilities: Mapped[dict[str, float] | None] = mapped_column(JsonType)
    # The numeric features outside the model's expected range (scored anyway), or null: monitoring counts them.
    out_of_range: Mapped[list[str] | None] = mapped_column(NullableJsonType)


class Feedback(Base):
    """A ground-truth report on a prediction; a later one with another value is a correction (revision + 1)."""

    __tablename__ = "feedback"
    # Two writers racing on the same prediction cannot both take the same revision: the loser retries.
    __table_args__ = (UniqueConstraint("prediction_id", "revision", name="uq_feedback_prediction_revision"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    prediction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("predictions.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    actual: Mapped[Any] = mapped_column(JsonType)
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(100))


class ModelReload(Base):
    """A swap of the served model to a version, made by one worker: the others, and other replicas, follow it."""

    __tablename__ = "model_reloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    model_name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(50))
    # Who asked: the client address of POST /admin/reload, or "poll" for the registry poll.
    requested_by: Mapped[str] = mapped_column(String(200))
