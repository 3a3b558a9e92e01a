"""Close the loop: export the feedback (DVC-tracked), train on train split + feedback, evaluate, then promote.

The test split stays data/processed/test.csv, and feedback rows equal to a test row (features and label) are left out
of training, so the promotion gate compares the new version and the champion on the same unseen rows. A feedback row
whose features are a test row's but whose label differs is new truth: it is trained on (it can only cost the
candidate on the test split, never help it).

The world changes, and the test split taken at the first ingest does not: a seeded slice of the newest feedback
(data/feedback/recent.csv, promote.recent_share) is kept aside, never trained on, and the gate judges both models on
it as well (core.promotion_gate). Training weighs the newest rows the most (retrain.half_life, core.recency), so
that today's truth can outvote yesterday's rows; when @champion moves, a service running here reloads it.

No single source decides: each source of feedback (an API key's name, or anonymous) may hold at most
retrain.max_source_share of the rows trained on, and of the recent slice judged on (core.source_caps); the run
records each source's rows and how many were used, and the gate hears how many sources the slice holds.

Feedback is user input: each row must meet data/expectations.json (core.quarantine) before it may teach the model.
The rows that do not are written to data/feedback/quarantine.csv with their reasons, counted, and never trained on.
"""

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.features import coerce_features
from ..core.promotion_gate import TRAINED_BY_RETRAIN, recent_slice
from ..core.quarantine import row_problems
from ..core.recency import recency_weights
from ..core.schema import Expectations
from ..core.source_caps import ANONYMOUS, SOURCE, SourceUse, cap_sources, describe_uses
from ..io import tracking
from ..io.datasets import read_frame, write_frame
from ..io.lineage import file_md5
from ..io.prediction_archive import ARCHIVE, archived_feedback
from ..io.prediction_log import iter_feedback
from ..params import Params, load_params
from ..settings import Settings, find_project_root, get_settings
from ..store.database import create_db_engine, has_prediction_log
from .context import EXPECTATIONS, RAW, TEST, TRAIN, Paths, load_expectations, say
from .evaluate import evaluate
from .promote import Decision, promote, say_decision, stopped_retrain_version
from .service_notice import tell_running_service
from .train import check_training_params, train

FEEDBACK = "data/feedback/feedback.csv"
TRAIN_WITH_FEEDBACK = "data/feedback/train.csv"
QUARANTINE = "data/feedback/quarantine.csv"
RECENT = "data/feedback/recent.csv"


@dataclass(frozen=True)
class Retrained:
    exported: int  # feedback rows (latest revision per prediction)
    quarantined: int  # rows that broke the expectations: kept in QUARANTINE, never trained on
    added: int  # rows added to the training data after deduplication
    recent: int  # newest rows kept aside for the gate, never trained on
    version: str
    decision: Decision
    trained_sources: tuple[SourceUse, ...] = ()  # per source: its rows for training, and how many the cap let in
    judged_sources: tuple[SourceUse, ...] = ()  # the same for the recent slice the gate judged on


@dataclass(frozen=True)
class Registered:
    """What the first half of retrain leaves: the new version, and what its gate is to judge it on."""

    exported: int
    quarantined: int
    added: int
    version: str
    recent: pd.DataFrame  # the recent slice, in the training data's columns and types
    trained_sources: tuple[SourceUse, ...]
    judged_sources: tuple[SourceUse, ...]


@dataclass(frozen=True)
class AllQuarantined:
    """Every feedback row broke the expectations: nothing was trained, the registry is unchanged."""

    exported: int

    @property
    def message(self) -> str:
        return f"all {self.exported} feedback rows were quarantined ({QUARANTINE} says why): nothing to retrain on"


def read_feedback(settings: Settings, archive: Path | None = None) -> list[dict[str, Any]]:
    """Every prediction of the model with feedback: its logged features and its latest actual, as logged, from the
    prediction log and from its archive (`db archive` moved the older ones there; docs/monitoring.md)."""
    archived = [] if archive is None else archived_feedback(archive, settings.model_name)
    logged: list[dict[str, Any]] = []
    engine = create_db_engine(settings.database_url)
    if has_prediction_log(engine):  # else the service never ran: no feedback logged yet
        logged = [row for chunk in iter_feedback(engine, settings.model_name) for row in chunk]
    engine.dispose()
    # A row in both (an archive run killed between its write and its delete) counts once, as the log holds it.
    in_log = {row["prediction_id"] for row in logged}
    return [row for row in archived if row["prediction_id"] not in in_log] + logged


def screen(
    rows: list[dict[str, Any]], expectations: Expectations, tolerance: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows that meet the expectations, refused rows with a `reason`), each in the order given."""
    ranges = expectations.allowed_ranges(tolerance)
    kept, refused = [], []
    for row in rows:
        features = row["features"]
        if isinstance(features, dict):
            problems = row_problems(features, row["actual"], expectations, ranges)
        else:
            problems = ["the logged features are not a JSON object"]
        if problems:
            refused.append(row | {"reason": "; ".join(problems)})
        else:
            kept.append(row)
    return kept, refused


def quarantine_frame(refused: list[dict[str, Any]]) -> pd.DataFrame:
    """Refused rows as logged (features and actual as JSON text, since they broke the column types) with reasons."""
    columns = ["prediction_id", "created_at", "reason", "features", "actual"]
    frame = pd.DataFrame(
        [
            {
                "prediction_id": row["prediction_id"],
                "created_at": row["created_at"],
                "reason": row["reason"],
                "features": json.dumps(row["features"], sort_keys=True),
                "actual": json.dumps(row["actual"]),
            }
            for row in refused
        ],
        columns=columns,
    )
    return frame.sort_values(["created_at", "prediction_id"], kind="stable").reset_index(drop=True)


def export_feedback(rows: list[dict[str, Any]], expectations: Expectations) -> pd.DataFrame:
    """Feedback rows as a frame of the training data's columns and types, plus their ids, times and sources, oldest
    first."""
    target = expectations.target.name
    features = coerce_features(
        pd.DataFrame([row["features"] for row in rows]).reindex(columns=list(expectations.kinds)), expectations.kinds
    )
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "prediction_id": [r["prediction_id"] for r in rows],
                    "created_at": [r["created_at"] for r in rows],
                    SOURCE: [r.get(SOURCE) or ANONYMOUS for r in rows],
                }
            ),
            features,
            pd.Series([r["actual"] for r in rows], name=target),
        ],
        axis=1,
    )
    return frame.sort_values(["created_at", "prediction_id"], kind="stable").reset_index(drop=True)


def with_feedback(
    train_split: pd.DataFrame, test_split: pd.DataFrame, feedback: pd.DataFrame, target: str
) -> pd.DataFrame:
    """The training rows unchanged, plus the feedback rows that are in neither them nor the test split."""
    columns = list(train_split.columns)
    new = feedback[columns].astype(train_split.dtypes.to_dict()).drop_duplicates()
    new = new[~contained(new, train_split, columns) & ~same_test_row(new, test_split, target)]
    return pd.concat([train_split, new], ignore_index=True)


def same_test_row(rows: pd.DataFrame, test_split: pd.DataFrame, target: str) -> "pd.Series[bool]":
    """Per row, whether a test row has its features and its label; a number counts as the same when it is close,
    since a target read back from the CSV and one sent as JSON may differ in the last digit."""
    features = [name for name in rows.columns if name != target]
    labels = test_split[[*features, target]].drop_duplicates(subset=features).rename(columns={target: "_test"})
    matched = rows.reset_index(drop=True).merge(labels, on=features, how="left")
    if pd.api.types.is_numeric_dtype(rows[target]) and pd.api.types.is_numeric_dtype(matched["_test"]):
        same = np.isclose(matched[target].astype(float), matched["_test"].astype(float), rtol=1e-9, atol=1e-12)
    else:
        same = (matched[target] == matched["_test"]).to_numpy()
    return pd.Series(same & matched["_test"].notna().to_numpy(), index=rows.index)


def contained(rows: pd.DataFrame, other: pd.DataFrame, columns: list[str]) -> "pd.Series[bool]":
    """Per row, whether `other` has a row with the same values in these columns (missing values match)."""
    found = rows[columns].merge(other[columns].drop_duplicates(), how="left", indicator=True)["_merge"] == "both"
    return pd.Series(found.to_numpy(), index=rows.index)


def dvc_add(root: Path, *relative: str) -> None:
    """Version the files with DVC (cache + .dvc files for git); skipped outside a DVC repository."""
    if not (root / ".dvc").is_dir():
        say("retrain", f"{root} is not a DVC repository: {', '.join(relative)} left untracked")
        return
    subprocess.run([sys.executable, "-m", "dvc", "add", "--quiet", *relative], cwd=root, check=True)


def staged(root: Path, staging: Path, train_file: Path) -> Paths:
    """The pipeline's layout in a temporary folder: the real raw data, expectations and test split (links), and
    the enlarged training split, so train() and evaluate() run unchanged and record the lineage of what they used."""
    links = {EXPECTATIONS: root / EXPECTATIONS, RAW: root / RAW, TEST: root / TEST, TRAIN: train_file}
    for relative, source in links.items():
        (staging / relative).parent.mkdir(parents=True, exist_ok=True)
        (staging / relative).symlink_to(source.resolve())
    return Paths(staging)


def retrain(params: Params, settings: Settings, paths: Paths) -> Retrained | AllQuarantined | None:
    """None when there is no feedback yet; AllQuarantined, before anything is trained or registered, when no row
    meets the expectations; otherwise the new version and the promotion decision."""
    registered = register_on_feedback(params, settings, paths)
    if not isinstance(registered, Registered):
        return registered
    decision = promote(params, settings, paths, registered.recent, registered.judged_sources)
    return Retrained(
        exported=registered.exported,
        quarantined=registered.quarantined,
        added=registered.added,
        recent=len(registered.recent),
        version=registered.version,
        decision=decision,
        trained_sources=registered.trained_sources,
        judged_sources=registered.judged_sources,
    )


def register_on_feedback(params: Params, settings: Settings, paths: Paths) -> Registered | AllQuarantined | None:
    """Retrain's first half: export and screen the feedback, train, register and evaluate a new version. Its gate
    (promote, on the recent slice) is the second half; a version whose gate never ran is not served
    (core.promotion_gate.awaits_retrain_gate), and the next retrain says so and trains a new one."""
    expectations = load_expectations(paths)
    rows = read_feedback(settings, paths / ARCHIVE)
    if not rows:
        return None
    kept, refused = screen(rows, expectations, params.data.range_tolerance)
    write_frame(quarantine_frame(refused), paths / QUARANTINE)
    if refused:
        say("retrain", f"{len(refused)} of {len(rows)} feedback rows break {EXPECTATIONS}: kept in {QUARANTINE}")
    if not kept:
        return AllQuarantined(exported=len(rows))
    feedback = export_feedback(kept, expectations)
    write_frame(feedback, paths / FEEDBACK)
    learn_from, recent = recent_slice(feedback, params.promote.recent_share, params.promote.seed)
    # Capped apart: a cap over all the feedback would let one source fill the newest rows, where the slice is drawn.
    learn_from, trained_sources = cap_sources(learn_from, params.retrain.max_source_share)
    recent, judged_sources = cap_sources(recent, params.retrain.max_source_share)
    share = f"retrain.max_source_share {params.retrain.max_source_share:g}"
    say("retrain", f"feedback per source for training ({share}): {describe_uses(trained_sources)}")
    say("retrain", f"feedback per source in the recent slice ({share}): {describe_uses(judged_sources)}")
    write_frame(recent, paths / RECENT)
    train_split, test_split = read_frame(paths / TRAIN, expectations), read_frame(paths / TEST, expectations)
    combined = with_feedback(train_split, test_split, learn_from, expectations.target.name)
    write_frame(combined, paths / TRAIN_WITH_FEEDBACK)
    dvc_add(paths.root, FEEDBACK, QUARANTINE, RECENT, TRAIN_WITH_FEEDBACK)
    added = len(combined) - len(train_split)
    say(
        "retrain",
        f"{len(feedback)} feedback rows exported to {FEEDBACK}; {len(recent)} of the newest kept aside for the gate "
        f"({RECENT}); {added} new training rows after deduplication",
    )
    tags = {
        "lineage.data.feedback": file_md5(paths / FEEDBACK),
        "retrain.feedback_rows_added": str(added),
        "retrain.feedback_rows_quarantined": str(len(refused)),
        TRAINED_BY_RETRAIN: str(len(recent)),  # also what marks the run as retrain's (core.promotion_gate)
        "retrain.half_life": str(params.retrain.half_life),
        "retrain.max_source_share": str(params.retrain.max_source_share),
        # {source: [rows, used]}: what the version learned from whom, and what it was judged on (the model card).
        "retrain.feedback_sources": json.dumps({use.source: [use.rows, use.used] for use in trained_sources}),
        "retrain.recent_sources": json.dumps({use.source: [use.rows, use.used] for use in judged_sources}),
    }
    tracking.connect(settings)
    stopped = stopped_retrain_version(settings)
    if stopped is not None:
        say(
            "retrain",
            f"version {stopped} was registered by a retrain that stopped before its gate judged it: it stays "
            "unjudged and is never served; this run trains and judges a new version",
        )
    with tempfile.TemporaryDirectory(prefix=".retrain-", dir=paths.root) as folder:
        stage = staged(paths.root, Path(folder), paths / TRAIN_WITH_FEEDBACK)
        # Oldest first (the train split, then feedback by time): the newest rows weigh the most (core.recency).
        # The tags go on the run before it is registered: they mark it as retrain's (core.promotion_gate), and
        # evaluate writes the model card from them.
        weights = recency_weights(len(combined), params.retrain.half_life)
        run = train(params, settings, stage, weights, tags)
        evaluate(params, settings, stage)
    return Registered(
        exported=len(rows),
        quarantined=len(refused),
        added=added,
        version=run["version"],
        recent=recent[list(combined.columns)].astype(combined.dtypes.to_dict()),
        trained_sources=tuple(trained_sources),
        judged_sources=tuple(judged_sources),
    )


def main() -> int:
    params = load_params()
    check_training_params(params)  # before the feedback export writes anything
    result = retrain(params, get_settings(), Paths(find_project_root()))
    if result is None:
        say("retrain", "no feedback yet: nothing to learn from (send some with POST /feedback)")
        return 0
    if isinstance(result, AllQuarantined):
        say("retrain", f"{result.message}; the registry is unchanged")
        return 1
    decision = result.decision
    say_decision("retrain", decision, params.promote.metric)
    if decision.alias == "champion":
        say("retrain", tell_running_service(get_settings()))
    return 0
