"""Request and response schemas: the record schema is built at start from the served model's MLflow signature."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    create_model,
    field_validator,
    with_config,
)
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import TypedDict

from ..core.model_inputs import Feature
from .served_model import ServedModel

# Strict types: a number sent for a text feature (or text for a number) is a 422 naming the field, not a silent cast.
# StrictFloat still accepts an integer. None is always accepted: the pipeline imputes it.
FIELD_TYPES: dict[str, Any] = {
    "double": StrictFloat,
    "float": StrictFloat,
    "long": StrictInt,
    "integer": StrictInt,
    "boolean": StrictBool,
    "string": StrictStr,
}
# Literal types in the docs for a readable number of classes; more than this and the docs list them in /model.
MAX_LITERAL_CLASSES = 50


def build_record_type(features: tuple[Feature, ...]) -> type:
    """One record: every feature required, null allowed, no extra field, no NaN or Infinity.

    A TypedDict keyed by the real column names (spaces, punctuation...): pydantic validates the JSON straight into
    the dict that the model takes, with no model instance to build and dump on every request.
    """
    fields: dict[str, Any] = {
        f.name: Annotated[
            FIELD_TYPES.get(f.type, Any) | None,
            Field(title=f.name, description=f"{f.type}; null is imputed by the model pipeline"),
        ]
        for f in features
    }
    record = TypedDict("Record", fields)  # type: ignore[misc]
    return with_config(ConfigDict(extra="forbid", allow_inf_nan=False))(record)


class PredictionOut(BaseModel):
    prediction_id: uuid.UUID
    prediction: Any
    probabilities: dict[str, float] | None = Field(None, description="label -> probability (classification)")
    model_version: str


def build_prediction_model(model: ServedModel) -> type[BaseModel]:
    """PredictionOut with the prediction typed after the model (its class labels, or a number)."""
    if model.task == "regression":
        label_type: Any = float
    elif 0 < len(model.classes) <= MAX_LITERAL_CLASSES:
        label_type = Literal[model.classes]
    else:
        label_type = str | int
    return create_model("Prediction", __base__=PredictionOut, prediction=(label_type, ...))


@dataclass(frozen=True)
class Schemas:
    """The schemas of the served model, used by the predict router and shown in /docs."""

    record: type
    prediction: type[BaseModel]
    batch: type[BaseModel]


def build_schemas(model: ServedModel, max_batch_size: int) -> Schemas:
    record = build_record_type(model.features)
    prediction = build_prediction_model(model)
    batch = create_model("PredictionBatch", predictions=(list[prediction], ...))  # type: ignore[valid-type]
    return Schemas(record=record, prediction=prediction, batch=batch)


class FeedbackIn(BaseModel):
    """What happened in reality for a prediction."""

    model_config = ConfigDict(extra="forbid")

    prediction_id: uuid.UUID
    actual: Annotated[
        StrictStr | StrictInt | StrictFloat, Field(description='A class label ("1" and 1 both match) or a number')
    ]
    rating: int | None = Field(None, ge=1, le=5, description="Optional 1-5 rating of the prediction")
    comment: str | None = Field(None, max_length=2000)
    # Not a field a client may send (so not in /docs): declared only to refuse it with a sentence, as a client
    # written for the older API that chose its own source must learn that it no longer does.
    source: SkipJsonSchema[None] = None

    @field_validator("source", mode="before")
    @classmethod
    def _refuse_source(cls, value: object) -> None:
        raise ValueError("source is recorded from the caller's API key (its name, or anonymous), not the body: drop it")


class FeedbackOut(BaseModel):
    feedback_id: uuid.UUID
    prediction_id: uuid.UUID
    revision: int = Field(description="1 for the first report; a correction gets the next number")
    created_at: datetime
    actual: Any
    rating: int | None
    comment: str | None
    source: str | None = Field(
        description="Who sent it: the API key's name, or anonymous (older rows keep what their body said, or null)"
    )


class FeedbackSummary(BaseModel):
    actual: Any = Field(description="The latest report's actual value (the one that counts), or null")
    history: list[FeedbackOut]


class Lineage(BaseModel):
    model_name: str
    model_version: str
    run_id: str | None
    git_commit: str | None = None
    git_dirty: str | None = None
    data_raw: str | None = None
    data_train: str | None = None
    data_test: str | None = None


class PredictionDetail(BaseModel):
    prediction_id: uuid.UUID
    created_at: datetime
    request_id: str | None
    input: dict[str, Any]
    prediction: Any
    probabilities: dict[str, float] | None
    model_version: str
    feedback: FeedbackSummary
    lineage: Lineage


class ModelInfo(BaseModel):
    name: str
    version: str
    alias: str | None
    run_id: str | None
    task: str
    classes: list[Any]
    metrics: dict[str, float]
    lineage: dict[str, Any]
    signature: dict[str, Any]
    loaded_at: datetime
