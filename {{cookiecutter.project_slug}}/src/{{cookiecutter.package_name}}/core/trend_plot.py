"""The monitoring trend as inline SVG: drift share and the quality metric across the runs of history.jsonl; no I/O.

Built on the server as plain markup, so that the page needs no script and no CDN, and a test can count the points.
"""

from collections.abc import Sequence
from html import escape

from .monitoring import HistoryEntry

WIDTH, HEIGHT = 720, 170
# Room for the axis labels on the left and the run dates below.
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 34
COLOURS = {"drift": "#c0392b", "quality": "#2471a3"}


def _x(index: int, count: int) -> float:
    """Runs evenly spaced in order: runs are irregular in time, and the order is what a reader compares."""
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span / 2 if count == 1 else span * index / (count - 1))


def _scale(values: Sequence[float]) -> tuple[float, float]:
    """The y range: a little padding around the values, so that a flat line is not drawn on the frame."""
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.1 or 1.0
    return low - pad, high + pad


def _y(value: float, low: float, high: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (high - value) / (high - low)


def _chart(
    series: str, title: str, points: list[tuple[int, float, str]], count: int, bounds: tuple[float, float]
) -> str:
    """One chart: a frame, the axis bounds, a line through the points and a circle per point with its tooltip."""
    low, high = bounds
    colour = COLOURS[series]
    coords = [(_x(i, count), _y(value, low, high), label) for i, value, label in points]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coords)
    circles = "".join(
        f'<circle class="trend-point" data-series="{series}" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
        f"<title>{escape(label)}</title></circle>"
        for x, y, label in coords
    )
    bottom = HEIGHT - BOTTOM
    return (
        f'<svg class="trend-chart" data-series="{series}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>'
        f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{bottom - TOP}" fill="none" stroke="#bbb"/>'
        f'<text x="{LEFT - 6}" y="{TOP + 4}" font-size="11" text-anchor="end">{high:.3g}</text>'
        f'<text x="{LEFT - 6}" y="{bottom}" font-size="11" text-anchor="end">{low:.3g}</text>'
        + (f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>' if len(coords) > 1 else "")
        + circles
        + "</svg>"
    )


def _dates(entries: Sequence[HistoryEntry]) -> str:
    """The first and last run's date under the charts (every date would overlap once runs are many)."""
    first, last = entries[0].created_at, entries[-1].created_at
    return f"{len(entries)} runs, {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC, oldest on the left"


def trend_section(entries: Sequence[HistoryEntry]) -> str:
    """An HTML section with both charts, or a sentence saying that no run is recorded yet."""
    style = "font-family:sans-serif;margin:16px;padding:12px;border:1px solid #ddd;border-radius:6px;background:#fff"
    if not entries:
        body = "<p>No monitoring run is recorded in history.jsonl yet: each <code>monitor</code> run adds one.</p>"
        return f'<section id="monitoring-trend" style="{style}"><h2>Trend</h2>{body}</section>'
    count = len(entries)
    drift = [
        (i, e.drift_share, f"{e.created_at:%Y-%m-%d %H:%M} v{e.model_version}: {e.drift_share:.0%} drifted")
        for i, e in enumerate(entries)
    ]
    metric = entries[-1].quality_metric
    # A run without enough feedback has no quality value: it is a gap, not a zero.
    quality = [
        (i, e.quality_value, f"{e.created_at:%Y-%m-%d %H:%M} v{e.model_version}: {metric} {e.quality_value:.4g}")
        for i, e in enumerate(entries)
        if e.quality_value is not None and e.quality_metric == metric
    ]
    charts = _chart("drift", "Share of drifted features", drift, count, (0.0, 1.0))
    if quality:
        charts += _chart("quality", f"{metric} on feedback", quality, count, _scale([v for _, v, _ in quality]))
    else:
        charts += f"<p>No run had enough feedback to compute {escape(metric)} yet.</p>"
    return (
        f'<section id="monitoring-trend" style="{style}"><h2>Trend</h2>{charts}'
        f'<p>{escape(_dates(entries))}; the figures: <a href="/monitoring/history">/monitoring/history</a></p>'
        "</section>"
    )
