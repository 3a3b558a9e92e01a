"""Experiment parameters from `params.yaml`, one section per stage, validated so that a typo fails loudly."""

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .params_errors import describe
from .settings import find_project_root
from .user_errors import UserError

Task = Literal["classification", "regression"]


class Section(BaseModel):
    """A params.yaml section: unknown keys are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DataParams(Section):
    source: str = Field(description="CSV path relative to the project root, or sklearn:<name> for a bundled set")
    target: str = Field(description="The column to predict")
    range_tolerance: float = Field(
        1.0,
        ge=0.0,
        description="How far past the numeric range seen at ingest a value may lie, in widths of that range, before "
        "a feedback row is quarantined (retrain) and a request is flagged as out of range (serving, monitoring)",
    )


class SplitParams(Section):
    test_size: float = Field(gt=0.0, lt=1.0)
    seed: int


class TrainParams(Section):
    model: str = Field(description="Model family, see core.model.FAMILIES")
    hyperparameters: dict[str, Any] = {}
    seed: int


class PromoteParams(Section):
    metric: str = Field(description="Test metric compared between the candidate and the champion")
    margin: float = Field(ge=0.0, description="How much better the candidate must be to replace the champion")
    recent_share: float = Field(
        0.2,
        ge=0.0,
        lt=1.0,
        description="Share of the labelled feedback kept aside by retrain (drawn from the newest, seeded) and never "
        "trained on: the gate judges both models on it, because the fixed test split describes yesterday's world",
    )
    min_recent: int = Field(
        30, gt=0, description="Fewer recent feedback rows than this: the gate judges on the test split alone"
    )
    guard: float = Field(
        0.1,
        ge=0.0,
        description="How much worse (relative: 0.1 = 10%) than the champion the candidate may be on the test split "
        "and still win on recent feedback",
    )
    min_sources: int = Field(
        2,
        ge=1,
        description="Fewer feedback sources (API key names, or anonymous) in the recent slice than this: it alone "
        "can never waive the test-split guard, since one client's wrong labels look like a changed world",
    )
    seed: int = Field(42, description="Seed of the draw of the recent slice")


class RetrainParams(Section):
    half_life: float = Field(
        30.0,
        ge=0.0,
        description="Rows, counted back from the newest labelled one: a row's training weight halves for each this "
        "many newer rows (the train split counts as older than all feedback), so today's truth can outvote "
        "yesterday's; 0 weighs every row the same",
    )
    max_source_share: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description="The largest share of the feedback trained on, and of the recent slice judged on, that one "
        "source (an API key's name, or anonymous) may hold; a source over it keeps its newest rows (core.source_caps)",
    )


class MonitorParams(Section):
    drift_share: float = Field(gt=0.0, le=1.0, description="Share of drifted features that counts as drift")
    metric_drop: float = Field(
        ge=0.0, description="Allowed relative drop of the promotion metric on labelled feedback (0.05 = 5% worse)"
    )
    sample_size: int = Field(gt=0, description="Predictions sampled (seeded) from the window for the report")
    min_labeled: int = Field(30, gt=0, description="Labelled predictions needed before quality can breach")
    seed: int


class ScoreParams(Section):
    max_rejected_share: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="Largest share of a batch's rows that may be rejected (text in a number, a missing column, a "
        "value the model cannot score); past it `score` writes nothing and exits 1, naming the commonest reasons",
    )


class Params(Section):
    task: Task
    data: DataParams
    split: SplitParams
    train: TrainParams
    promote: PromoteParams
    retrain: RetrainParams = RetrainParams()
    monitor: MonitorParams
    score: ScoreParams = ScoreParams()


def params_file() -> Path:
    """The params.yaml of the project the command runs in (a queued DVC experiment's own copy, for instance)."""
    return find_project_root() / "params.yaml"


def load_params(path: Path | None = None) -> Params:
    """Read and validate params.yaml (by default the project's, see params_file); every job starts here.

    A problem is a UserError of one line naming the key, the value and what is allowed, raised before the job
    writes anything.
    """
    path = path or params_file()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"{path} does not exist: run the command in the project folder (it holds params.yaml)"
        ) from None
    except UnicodeDecodeError:
        raise UserError(f"{path.name} is not UTF-8 text: save it as UTF-8") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "it is not valid YAML"
        raise UserError(f"{path.name}{where}: {problem}; fix the indentation or quoting there") from None
    if not isinstance(raw, dict):
        raise UserError(
            f"{path.name} holds no `key: value` sections (it is empty or a single value): restore it from git"
        )
    try:
        return Params.model_validate(raw)
    except ValidationError as error:
        raise UserError(describe(error, Params, path.name)) from None
