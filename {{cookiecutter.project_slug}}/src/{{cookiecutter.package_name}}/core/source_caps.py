"""No single source decides: cap each feedback source's share of the rows a model trains or is judged on.

A source is who sent the feedback (the API key's name, or `anonymous`). A label is the most powerful input there is,
and one client can send as many as it likes: without a cap, 400 wrong labels from one key outvote 200 honest ones.
"""

from dataclasses import dataclass

import pandas as pd

SOURCE = "source"  # the column of a feedback frame that names who sent each row
ANONYMOUS = "anonymous"  # the source of feedback sent without a key (and of rows logged before sources were kept)


@dataclass(frozen=True)
class SourceUse:
    """One source's feedback rows and how many of them the cap let through."""

    source: str
    rows: int
    used: int


def cap_per_source(counts: dict[str, int], max_share: float) -> int:
    """The most rows any one source may keep so that none holds more than `max_share` of the rows kept.

    That is the largest cap c with c <= max_share * sum(min(rows, c)): a source with fewer rows than the cap keeps
    them all and the others are cut to c. The right-hand side grows more slowly than c once a source is cut, so the
    rule holds from 0 up to one largest c, found by bisection. When no cap above the smallest source's rows holds
    (one source alone, or fewer sources than 1 / max_share), the cap is the smallest source's rows: no source then
    outweighs another, and a lone source keeps everything (there is no one to balance it against).
    """
    if not counts:
        return 0
    low, high = 0, max(counts.values())
    while low < high:
        middle = (low + high + 1) // 2
        kept = sum(min(rows, middle) for rows in counts.values())
        if middle <= max_share * kept + 1e-9:
            low = middle
        else:
            high = middle - 1
    return max(low, min(counts.values()))


def cap_sources(feedback: pd.DataFrame, max_share: float) -> tuple[pd.DataFrame, list[SourceUse]]:
    """(the rows kept, in the order given, and per source its rows and how many were kept, most rows first).

    `feedback` is sorted oldest first and has a SOURCE column. A source over the cap keeps its newest rows: they say
    the most about today, and which rows go is deterministic (no draw), so a rerun trains on the same rows.
    """
    sources = feedback[SOURCE].fillna(ANONYMOUS).astype(str)
    counts = sources.value_counts(sort=False).to_dict()
    cap = cap_per_source({str(name): int(rows) for name, rows in counts.items()}, max_share)
    # Position from the newest row of each source: 0 for the newest, 1 for the one before, and so on.
    from_newest = sources.iloc[::-1].groupby(sources.iloc[::-1]).cumcount().iloc[::-1]
    kept = feedback[(from_newest < cap).to_numpy()]
    used = sources[(from_newest < cap).to_numpy()].value_counts().to_dict()
    uses = [SourceUse(str(name), int(rows), int(used.get(name, 0))) for name, rows in counts.items()]
    return kept, sorted(uses, key=lambda use: (-use.rows, use.source))


def describe_uses(uses: list[SourceUse]) -> str:
    """ "mallory 400 rows, 200 used; app 200 rows, 200 used" """
    return "; ".join(f"{use.source} {use.rows} rows, {use.used} used" for use in uses) or "no rows"
