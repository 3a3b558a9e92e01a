"""Monitoring decisions: the window of predictions, a seeded reservoir sample, the thresholds and the summary."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any, Generic, Literal, TypeVar

import numpy as np
from pydantic import BaseModel

from .durations import parse_duration
from .metrics import HIGHER_IS_BETTER
from .source_review import SourceFeedback, describe_sources

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """Predictions created in [start, end]; no start means since the first one."""

    start: datetime | None
    end: datetime
    description: str


def parse_since(text: str, now: datetime, option: str = "--since") -> datetime:
    """`24h`, `7d`, `30m`... before now, or an ISO 8601 date or time (UTC unless it says otherwise; a date is its
    midnight)."""
    span = parse_duration(text)
    if span is not None:
        return now - span
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{option} expects 24h, 7d, 30m or an ISO date or time like 2025-01-31 or 2025-01-31T12:00, got {text!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def since_window(since: str | None, now: datetime) -> Window:
    """Everything up to now, or since a time; `--last N` is resolved against the log (see io.prediction_log)."""
    if since is None:
        return Window(start=None, end=now, description="all predictions")
    start = parse_since(since, now)
    return Window(start=start, end=now, description=f"predictions since {start.isoformat()}")


def range_window(start: str, end: str | None, now: datetime) -> Window:
    """`--from START --to END`: each a span back from now (`60d`) or an ISO 8601 date or time; no END means now.

    A window with a start also reads the archive's days that overlap it (see io.prediction_log.read_window).
    """
    first = parse_since(start, now, "--from")
    last = now if end is None else parse_since(end, now, "--to")
    start_text, end_text = first.isoformat(timespec="seconds"), last.isoformat(timespec="seconds")
    if first >= last:
        raise ValueError(f"--from ({start_text}) must be before --to ({end_text})")
    return Window(start=first, end=last, description=f"predictions from {start_text} to {end_text}")


class Reservoir(Generic[T]):
    """A uniform sample of at most `size` items from a stream of unknown length (algorithm R), seeded.

    Items arrive in chunks; once the reservoir is full an item replaces a random slot with probability size/seen, so
    memory stays bounded by `size` however long the window is, and the same stream and seed give the same sample.
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.items: list[T] = []
        self.seen = 0
        self._rng = np.random.default_rng(seed)

    def offer(self, chunk: Sequence[T]) -> None:
        free = max(0, min(len(chunk), self.size - len(self.items)))
        self.items.extend(chunk[:free])
        if free < len(chunk):
            # Stream position t of each remaining item; it enters when a uniform draw in [0, t] hits a slot.
            positions = np.arange(self.seen + free, self.seen + len(chunk))
            slots = self._rng.integers(0, positions + 1)
            for index in np.flatnonzero(slots < self.size):
                self.items[int(slots[index])] = chunk[free + int(index)]
        self.seen += len(chunk)

    @property
    def sampled(self) -> bool:
        """Whether some items were left out (the window held more than `size`)."""
        return self.seen > self.size


class Breach(BaseModel):
    check: str
    value: float
    threshold: float
    message: str


def drift_breach(detected: bool, share: float, threshold: float) -> Breach | None:
    """Evidently's drifted-columns test decides; the share is reported with it."""
    if not detected:
        return None
    return Breach(
        check="data_drift",
        value=share,
        threshold=threshold,
        message=f"{share * 100:.0f}% of the features drifted (threshold {threshold * 100:.0f}%)",
    )


def relative_drop(metric: str, live: float, test: float) -> float:
    """How much worse the live value is than the test value, as a share of the test value (negative: better)."""
    worse = test - live if HIGHER_IS_BETTER[metric] else live - test
    return worse / abs(test) if test else worse


class Baseline(BaseModel):
    """What the champion is expected to score on today's feedback, and the evidence that figure comes from."""

    value: float
    source: Literal["test split", "recent feedback"]
    rows: int | None = None  # how many rows the figure was measured on, when known

    def describe(self) -> str:
        """ "0.8812 on the test split", or "0.8631 on the 126 recent feedback rows it was promoted on"."""
        if self.source == "test split":
            return f"{self.value:.4g} on the test split"
        return f"{self.value:.4g} on the {self.rows} recent feedback rows it was promoted on"


def quality_baseline(
    metric: str, test: float | None, recent: float | None, recent_rows: int, guard: float
) -> Baseline | None:
    """The champion's score on the test split, unless its promotion showed that split no longer describes today.

    The gate scored the champion, back when it was a candidate, on recent feedback it never trained on. When that
    score and the test split's differ by more than the gate's own guard (relative), the world has changed since the
    first ingest: a model fitted to today's truth scores badly on yesterday's split, and a threshold taken from it
    would let any quality pass. Its score on the recent slice is then the baseline. Otherwise the test split stays
    the baseline: it is the larger sample, and it does not move from one promotion to the next.
    """
    if test is None:
        return None
    if recent is None or recent_rows <= 0 or abs(relative_drop(metric, recent, test)) <= guard:
        return Baseline(value=test, source="test split")
    return Baseline(value=recent, source="recent feedback", rows=recent_rows)


def quality_breach(
    metric: str, live: float | None, baseline: Baseline | None, max_drop: float, n_labeled: int, min_labeled: int
) -> Breach | None:
    """A breach when the metric on feedback is worse than the baseline by more than max_drop (relative)."""
    if live is None or baseline is None or n_labeled < min_labeled:
        return None
    drop = relative_drop(metric, live, baseline.value)
    if drop <= max_drop:
        return None
    return Breach(
        check="quality",
        value=round(drop, 6),
        threshold=max_drop,
        message=f"{metric} on {n_labeled} labelled predictions is {live:.4g}, {drop * 100:.1f}% worse than "
        f"{baseline.describe()} (allowed {max_drop * 100:.0f}%)",
    )


class Reading(BaseModel):
    """How the window was read: every row, or a seeded sample of sample_size rows."""

    mode: str
    sample_size: int
    seed: int
    rows_read: int
    labeled_rows_read: int


class Summary(BaseModel):
    """summary.json: what a scheduler, a dashboard or GET /monitoring/summary needs without opening the HTML."""

    created_at: datetime
    model_name: str
    model_version: str
    task: str
    window: dict[str, Any]
    reading: Reading
    n_current: int
    n_labeled: int
    n_reference: int
    drift_detected: bool
    drift_share: float
    drift_threshold: float
    drifted_columns: list[str]
    n_columns: int
    prediction_drift: dict[str, Any]
    quality_metric: str
    quality: dict[str, float]
    champion_test: dict[str, float]
    breaches: list[Breach]
    reports: dict[str, str]
    # Data quality: requests with a number outside the model's expected range (scored, but the model never saw the
    # like). Defaults, so that a summary.json written before the count existed still loads.
    n_out_of_range: int = 0
    out_of_range_share: float = 0.0
    # What the quality was judged against (see quality_baseline); None in a summary.json written before it existed.
    quality_baseline: Baseline | None = None
    # Per feedback source: its labelled rows and how often they contradict the served prediction (core.source_review).
    sources: list[SourceFeedback] = []

    @property
    def breached(self) -> bool:
        return bool(self.breaches)

    def baseline_text(self) -> str:
        """What the quality was judged against, as printed; a summary.json from before the baseline was recorded was
        judged against the test split."""
        if self.quality_baseline is not None:
            return self.quality_baseline.describe()
        return f"test split: {self.champion_test.get(self.quality_metric, float('nan')):.4g}"


def render_summary(summary: Summary) -> str:
    """The one-screen text that `monitor` prints."""
    metric = summary.quality_metric
    live = summary.quality.get(metric)
    quality = "no labelled predictions" if live is None else f"{metric} {live:.4g} (baseline {summary.baseline_text()})"
    lines = [
        f"Monitoring {summary.model_name} v{summary.model_version} ({summary.task}): {summary.window['description']}",
        f"  rows       {summary.n_current} in the window ({summary.reading.mode}), {summary.n_labeled} with feedback,"
        f" reference {summary.n_reference} training rows",
        f"  drift      {summary.drift_share * 100:.0f}% of {summary.n_columns} features drifted"
        f" (threshold {summary.drift_threshold * 100:.0f}%): {'DRIFT' if summary.drift_detected else 'no drift'}",
    ]
    if summary.drifted_columns:
        shown = ", ".join(summary.drifted_columns[:8]) + (" ..." if len(summary.drifted_columns) > 8 else "")
        lines.append(f"             drifted: {shown}")
    prediction = summary.prediction_drift
    lines.append(
        f"  prediction {'drifted' if prediction.get('detected') else 'stable'}"
        f" ({prediction.get('method')}: {prediction.get('score', float('nan')):.3g})"
    )
    lines.append(f"  quality    {quality}")
    lines.append(
        f"  range      {summary.n_out_of_range} of {summary.n_current} requests"
        f" ({summary.out_of_range_share * 100:.1f}%) had a value outside the model's expected range"
    )
    if summary.sources:
        lines.append(f"  sources    {describe_sources(summary.sources)}")
    lines += [f"  BREACH     {breach.message}" for breach in summary.breaches] or ["  breaches   none"]
    lines.append(f"  report     {summary.reports.get('html', '')}")
    return "\n".join(lines)


class HistoryEntry(BaseModel):
    """One line of reports/monitoring/history.jsonl: a run's headline figures, for a trend across runs."""

    created_at: datetime
    model_version: str
    window: str
    drift_share: float
    drift_detected: bool
    quality_metric: str
    quality_value: float | None
    n_current: int
    n_labeled: int
    breaches: list[str]
    out_of_range_share: float
    run_dir: str


def history_entry(summary: Summary) -> HistoryEntry:
    return HistoryEntry(
        created_at=summary.created_at,
        model_version=summary.model_version,
        window=str(summary.window.get("description", "")),
        drift_share=summary.drift_share,
        drift_detected=summary.drift_detected,
        quality_metric=summary.quality_metric,
        quality_value=summary.quality.get(summary.quality_metric),
        n_current=summary.n_current,
        n_labeled=summary.n_labeled,
        breaches=[breach.check for breach in summary.breaches],
        out_of_range_share=summary.out_of_range_share,
        # The run's folder name (its UTC time) under the monitoring dir: where its reports are kept.
        run_dir=PurePath(summary.reports["html"]).parent.name if "html" in summary.reports else "",
    )
