"""Compare the predictions logged in a window with the champion's training data and its test quality (Evidently)."""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc
from evidently.core.report import Snapshot

from ..core import reports
from ..core.alerts import render_alert
from ..core.features import coerce_features
from ..core.metrics import classification_metrics, regression_metrics, rounded
from ..core.model_card import CARD, monitoring_status, with_monitoring
from ..core.monitoring import (
    Summary,
    Window,
    drift_breach,
    history_entry,
    quality_baseline,
    quality_breach,
    range_window,
    render_summary,
    since_window,
)
from ..core.source_review import review_sources
from ..io import card_store
from ..io.evidently_workspace import record_run
from ..io.monitoring_history import append_history
from ..io.monitoring_reports import QUALITY, REPORT, SUMMARY, new_run_dir, publish
from ..io.prediction_archive import ARCHIVE
from ..io.prediction_log import Scope, WindowSample, read_window, start_of_last
from ..io.reference import Champion, load_champion, read_split, with_predictions
from ..io.webhook import post_alert
from ..params import Params, load_params
from ..settings import Settings, get_settings
from ..store.database import create_db_engine, has_prediction_log
from ..user_errors import UserError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reference:
    """The champion, its training split (the drift reference) and its test split, both with its predictions."""

    champion: Champion
    train: pd.DataFrame
    test: pd.DataFrame


def load_reference(settings: Settings, params: Params) -> Reference:
    champion = load_champion(settings, params.data.target)
    root = settings.project_root
    return Reference(
        champion=champion,
        train=with_predictions(champion, read_split(champion, root, "train")),
        test=with_predictions(champion, read_split(champion, root, "test")),
    )


def current_frame(champion: Champion, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Logged rows as the training data looks: the signature's columns and types, plus the logged outputs."""
    features = coerce_features(
        pd.DataFrame([row["features"] for row in rows]).reindex(columns=list(champion.kinds)), champion.kinds
    )
    frame = features.assign(prediction=[row["prediction"] for row in rows])
    if "actual" in (rows[0] if rows else {}):
        frame["actual"] = [row["actual"] for row in rows]
        if champion.task == "classification":
            keys = [str(label) for label in champion.classes]
            proba = np.array([[(row["probabilities"] or {}).get(key, np.nan) for key in keys] for row in rows])
            frame[[f"proba_{i}" for i in range(len(keys))]] = proba
            if len(keys) == 2:
                frame["probability"] = proba[:, 1]
    return frame


def quality_of(champion: Champion, labeled: pd.DataFrame) -> dict[str, float]:
    """The pipeline's own test metrics (core.metrics) on the labelled predictions, so the numbers compare."""
    if labeled.empty:
        return {}
    if champion.task == "regression":
        return rounded(regression_metrics(labeled["actual"].astype(float), labeled["prediction"].to_numpy(float)))
    proba = labeled[[f"proba_{i}" for i in range(len(champion.classes))]].to_numpy(float)
    if np.isnan(proba).any():  # logged without probabilities: one-hot of the prediction keeps accuracy and f1 right
        proba = np.array([[float(p == c) for c in champion.classes] for p in labeled["prediction"]])
    found = classification_metrics(labeled["actual"], labeled["prediction"].to_numpy(), proba, champion.classes)
    return rounded(found)


@dataclass(frozen=True)
class Monitored:
    """A run's summary and the Evidently snapshots behind it (drift; quality with feedback), for the workspace."""

    summary: Summary
    snapshots: dict[str, Snapshot] = field(default_factory=dict)


def monitor(reference: Reference, sample: WindowSample, window: Window, params: Params, out_dir: Path) -> Summary:
    """Run the reports on the window, write report.html (+ quality.html with feedback) and summary.json."""
    return run_reports(reference, sample, window, params, out_dir).summary


def run_reports(reference: Reference, sample: WindowSample, window: Window, params: Params, out_dir: Path) -> Monitored:
    """monitor(), keeping the snapshots."""
    champion, monitor_params = reference.champion, params.monitor
    current = current_frame(champion, sample.current)
    drift_snapshot = reports.drift_report(
        reference.train, current, champion.kinds, champion.task, monitor_params.drift_share
    )
    drift = reports.read_drift(reports.results(drift_snapshot))
    title = f"{champion.name} v{champion.version}: {window.description}"
    drift_html = reports.titled(drift_snapshot.get_html_str(as_iframe=False), f"Drift: {title}")
    (out_dir / REPORT).write_text(drift_html, encoding="utf-8")
    snapshots = {"drift": drift_snapshot}
    labeled = current_frame(champion, sample.labeled)
    written = {"html": str(out_dir / REPORT)}
    if not labeled.empty:
        quality_snapshot = reports.quality_report(
            reference.test.rename(columns={champion.target: reports.ACTUAL}), labeled, champion.task, champion.classes
        )
        html = reports.titled(quality_snapshot.get_html_str(as_iframe=False), f"Quality: {title}")
        (out_dir / QUALITY).write_text(html, encoding="utf-8")
        snapshots["quality"] = quality_snapshot
        written["quality_html"] = str(out_dir / QUALITY)
    quality = quality_of(champion, labeled)
    metric = params.promote.metric
    baseline = quality_baseline(
        metric,
        champion.test_metrics.get(metric),
        champion.recent_metrics.get(metric),
        champion.recent_rows,
        params.promote.guard,
    )
    breaches = [
        drift_breach(drift.detected, drift.share, monitor_params.drift_share),
        quality_breach(
            metric,
            quality.get(metric),
            baseline,
            monitor_params.metric_drop,
            sample.labeled_rows,
            monitor_params.min_labeled,
        ),
    ]
    summary = Summary(
        created_at=datetime.now(UTC),
        model_name=champion.name,
        model_version=champion.version,
        task=champion.task,
        window={
            "start": window.start.isoformat() if window.start else None,
            "end": window.end.isoformat(),
            "description": window.description,
        },
        reading={
            "mode": "sampled" if sample.sampled else "all",
            "sample_size": monitor_params.sample_size,
            "seed": monitor_params.seed,
            "rows_read": len(sample.current),
            "labeled_rows_read": len(sample.labeled),
        },
        n_current=sample.rows,
        n_labeled=sample.labeled_rows,
        n_reference=len(reference.train),
        drift_detected=drift.detected,
        drift_share=drift.share,
        drift_threshold=monitor_params.drift_share,
        drifted_columns=drift.drifted_columns,
        n_columns=drift.n_columns,
        prediction_drift=drift.prediction,
        quality_metric=metric,
        quality=quality,
        champion_test=champion.test_metrics,
        quality_baseline=baseline,
        breaches=[breach for breach in breaches if breach is not None],
        reports=written,
        n_out_of_range=sample.out_of_range_rows,
        sources=review_sources(
            sample.labeled,
            champion.task,
            champion.test_metrics.get("mae", champion.test_metrics.get("rmse")),
            monitor_params.min_labeled,
        ),
        out_of_range_share=round(sample.out_of_range_rows / sample.rows, 6) if sample.rows else 0.0,
    )
    (out_dir / SUMMARY).write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return Monitored(summary, snapshots)


@dataclass(frozen=True)
class Span:
    """Which window the user asked for: `--last N`, `--since TIME`, `--from TIME [--to TIME]`, or none (all)."""

    last: int | None = None
    since: str | None = None
    start: str | None = None
    end: str | None = None

    @property
    def looks_back(self) -> bool:
        """A window that ends before now (`--to`): a look at the past, not the service's current state."""
        return self.end is not None


def resolve_window(settings: Settings, champion: Champion, span: Span) -> Window:
    now = datetime.now(UTC)
    if span.start is not None:
        return range_window(span.start, span.end, now)
    if span.last is None:
        return since_window(span.since, now)
    engine = create_db_engine(settings.database_url)
    start = start_of_last(engine, champion.name, champion.version, span.last, now)
    engine.dispose()
    return Window(start=start, end=now, description=f"last {span.last} predictions")


def run(
    settings: Settings, params: Params, last: int | None = None, since: str | None = None, span: Span | None = None
) -> Summary | None:
    """Monitor the window and publish the report to latest/; None when the window holds no prediction.

    A window with a start also reads the archive's days that overlap it (`db archive`'s Parquet). A window that
    ends in the past (`--to`) is a look back: its report goes to reports/monitoring/window-<start>-<end>/<time>/,
    and latest/, the history, the alert and the model card stay about the service's current predictions.
    """
    span = span or Span(last=last, since=since)
    engine = create_db_engine(settings.database_url)
    if not has_prediction_log(engine):
        print("No predictions logged yet: start the service (make serve) and send it some (make simulate).")
        return None
    reference = load_reference(settings, params)
    champion = reference.champion
    window = resolve_window(settings, champion, span)
    scope = Scope(champion.name, champion.version, window)
    archive = settings.project_root / ARCHIVE
    sample = read_window(engine, scope, params.monitor.sample_size, params.monitor.seed, archive=archive)
    engine.dispose()
    if sample.rows == 0:
        print(f"No predictions of {champion.name} v{champion.version} in the window ({window.description}).")
        return None
    root = settings.monitoring_dir
    if span.looks_back and window.start is not None:
        folder = f"window-{window.start:%Y%m%dT%H%M%SZ}-{window.end:%Y%m%dT%H%M%SZ}"
        return monitor(reference, sample, window, params, new_run_dir(root / folder, datetime.now(UTC)))
    monitored = run_reports(reference, sample, window, params, new_run_dir(root, window.end))
    summary = monitored.summary
    latest = publish(Path(summary.reports["html"]).parent, root)
    # The report is published: what follows records and tells, and none of it can lose the report. The alert goes
    # before the workspace and the card, so that a failure in either cannot keep a breach from being told.
    append_history(root, history_entry(summary))
    if summary.breached and settings.alert_webhook_url is not None:
        links = {
            "report": str(latest / REPORT),
            "summary": str(latest / SUMMARY),
            "run": str(Path(summary.reports["html"]).parent),
        }
        if (latest / QUALITY).is_file():
            links["quality"] = str(latest / QUALITY)
        post_alert(settings.alert_webhook_url, render_alert(summary, links, settings.alert_format))
    record_run(root, champion.name, summary.quality_metric, monitored.snapshots)
    refresh_card(settings, champion, summary, latest)
    return summary


def scored_sample(folder: Path, champion: Champion, params: Params) -> tuple[WindowSample, Window]:
    """A scored batch (`score`'s OUTPUT) read as monitoring reads logged predictions: the model's features and the
    prediction of each row, a seeded sample of monitor.sample_size when the batch is larger; and its time span."""
    import pyarrow.dataset

    dataset = pyarrow.dataset.dataset(folder, format="parquet", exclude_invalid_files=True)
    present = set(dataset.schema.names)
    if "prediction" not in present or "scored_at" not in present:
        raise UserError(f"{folder} is not a dataset written by `score`: it has no prediction and scored_at columns")
    features = [name for name in champion.kinds if name in present]
    table = dataset.to_table(columns=[*features, "prediction", "scored_at", "model_version"])
    rows = table.num_rows
    if rows == 0:
        raise UserError(f"{folder} holds no scored row: nothing to compare with the training data")
    size = params.monitor.sample_size
    if rows > size:
        keep = np.sort(np.random.default_rng(params.monitor.seed).choice(rows, size, replace=False))
        table = table.take(keep)
    versions = sorted(set(table.column("model_version").to_pylist()))
    if versions != [champion.version]:
        logger.warning(
            "%s was scored by version %s; the reference is the champion's (v%s) training data",
            folder,
            ", ".join(map(str, versions)),
            champion.version,
        )
    frame = table.select(features).to_pandas()
    current = [
        {"features": record, "prediction": prediction}
        for record, prediction in zip(frame.to_dict("records"), table.column("prediction").to_pylist(), strict=True)
    ]
    times = table.column("scored_at")
    window = Window(
        start=pc.min(times).as_py(),
        end=pc.max(times).as_py(),
        description=f"batch {folder.name} ({rows} scored rows)",
    )
    sample = WindowSample(current=current, labeled=[], rows=rows, labeled_rows=0, sampled=rows > size)
    return sample, window


def run_scored(settings: Settings, params: Params, folder: Path) -> tuple[Summary, Path]:
    """The drift report of a scored batch against the champion's training data, in its own folder beside the
    service's runs (reports/monitoring/batch-<OUTPUT's name>/<time>/); latest/ and the history stay the service's."""
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder: pass the OUTPUT that `score` wrote (a Parquet dataset)")
    reference = load_reference(settings, params)
    sample, window = scored_sample(folder, reference.champion, params)
    out_dir = new_run_dir(settings.monitoring_dir / f"batch-{folder.name}", datetime.now(UTC))
    return monitor(reference, sample, window, params, out_dir), out_dir


def refresh_card(settings: Settings, champion: Champion, summary: Summary, latest: Path) -> Path | None:
    """The champion's model card with this run's status: to latest/MODEL_CARD.md and back to the version's run."""
    card = card_store.fetch_card(settings, champion.run_id)
    if card is None:
        logger.warning("%s v%s has no %s in its run: retrain it to get one", champion.name, champion.version, CARD)
        return None
    updated = with_monitoring(card, monitoring_status(summary))
    card_store.log_card(settings, champion.run_id, updated)
    return card_store.write_card(latest / CARD, updated)


def main(
    last: int | None = None,
    since: str | None = None,
    fail: bool = True,
    retrain_on_breach: bool = False,
    scored: Path | None = None,
    window_from: str | None = None,
    window_to: str | None = None,
) -> int:
    """Exit code 1 on a breach (unless fail is False), 0 otherwise, including when the window is empty."""
    settings = get_settings()
    if scored is not None:
        batch_summary, _ = run_scored(settings, load_params(), scored)
        print(render_summary(batch_summary))  # which names the report
        return 1 if batch_summary.breached and fail else 0
    span = Span(last=last, since=since, start=window_from, end=window_to)
    summary = run(settings, load_params(), span=span)
    if summary is None:
        return 0
    print(render_summary(summary))  # which names the report
    if not span.looks_back:
        latest = settings.monitoring_dir / "latest"
        print(f"  latest     {latest} (GET /monitoring, /monitoring/quality, /monitoring/summary)")
    if summary.breached and retrain_on_breach:
        from . import retrain

        print("A threshold was crossed: retraining on the training data plus the feedback.", flush=True)
        retrain.main()
    return 1 if summary.breached and fail else 0
