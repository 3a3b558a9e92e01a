"""Suspicious feedback is visible: per source, how often its labels contradict what the model served, and a flag.

A source is who sent the feedback (an API key's name, or `anonymous`). An honest source contradicts the model about
as often as the model is wrong; a source that sends the opposite of the truth contradicts it nearly always, and so
does every source after a real change of the world. The flag compares each source with the others, so that it
points at one sender, not at a world that changed for everyone.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from pydantic import BaseModel

from .source_caps import ANONYMOUS

# The flag rule (docs/monitoring.md, "Suspicious sources"): a source with at least `min_rows` labelled predictions
# whose contradiction share is at least FLAG_RATIO times that of all the other sources' feedback together, and at
# least FLAG_GAP above it. The ratio alone would flag 2% against 1% (noise); the gap alone would flag a small
# disagreement on a hard model. With one source there is nothing to compare with: it is never flagged.
FLAG_RATIO = 2.0
FLAG_GAP = 0.2
# Regression: a label contradicts the prediction when it is further from it than this many times the champion's
# mean absolute error on the test split (its typical miss).
REGRESSION_MISSES = 3.0


class SourceFeedback(BaseModel):
    """One source's labelled predictions in the monitored window, and how many contradict the served prediction."""

    source: str
    rows: int
    contradicted: int
    contradiction_share: float
    flagged: bool = False


def contradicts(task: str, prediction: Any, actual: Any, typical_error: float | None) -> bool:
    """Whether a label says the model was wrong: another class, or a number past REGRESSION_MISSES typical misses."""
    if task == "classification":
        return str(prediction) != str(actual)
    if typical_error is None or prediction is None or actual is None:
        return False
    return abs(float(actual) - float(prediction)) > REGRESSION_MISSES * typical_error


def review_sources(
    rows: Iterable[Mapping[str, Any]], task: str, typical_error: float | None, min_rows: int
) -> list[SourceFeedback]:
    """Per source (most rows first): rows, contradictions, their share, and the flag (see FLAG_RATIO)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        tally = counts[str(row.get("source") or ANONYMOUS)]
        tally[0] += 1
        tally[1] += contradicts(task, row.get("prediction"), row.get("actual"), typical_error)
    total_rows = sum(rows for rows, _ in counts.values())
    total_contradicted = sum(contradicted for _, contradicted in counts.values())
    reviewed = []
    for source, (rows_of, contradicted) in counts.items():
        share = contradicted / rows_of
        other_rows = total_rows - rows_of
        flagged = False
        if other_rows and rows_of >= min_rows:
            others = (total_contradicted - contradicted) / other_rows
            flagged = share >= FLAG_RATIO * others and share >= others + FLAG_GAP
        reviewed.append(
            SourceFeedback(
                source=source,
                rows=rows_of,
                contradicted=contradicted,
                contradiction_share=round(share, 4),
                flagged=flagged,
            )
        )
    return sorted(reviewed, key=lambda found: (-found.rows, found.source))


def describe_sources(sources: Iterable[SourceFeedback]) -> str:
    """ "mallory 400 rows, 97% contradict the model (FLAGGED); app 200 rows, 4% contradict the model" """
    return "; ".join(
        f"{found.source} {found.rows} rows, {found.contradiction_share:.0%} contradict the model"
        + (" (FLAGGED)" if found.flagged else "")
        for found in sources
    )


def sources_section(sources: Iterable[SourceFeedback]) -> str:
    """An HTML section for GET /monitoring: one table row per source, flagged ones in red."""
    style = "font-family:sans-serif;margin:16px;padding:12px;border:1px solid #ddd;border-radius:6px;background:#fff"
    found = list(sources)
    if not found:
        body = "<p>No feedback in the latest monitoring window.</p>"
    else:
        red = ' style="color:#c0392b;font-weight:bold"'
        rows = "".join(
            f"<tr{red if item.flagged else ''}>"
            f"<td>{escape(item.source)}</td><td>{item.rows}</td><td>{item.contradicted}</td>"
            f"<td>{item.contradiction_share:.0%}</td><td>{'flagged' if item.flagged else ''}</td></tr>"
            for item in found
        )
        head = "<tr><th>source</th><th>rows</th><th>contradict</th><th>share</th><th></th></tr>"
        body = f"<table>{head}{rows}</table>"
    return f'<section id="feedback-sources" style="{style}"><h2>Feedback sources</h2>{body}</section>'
