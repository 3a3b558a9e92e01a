"""Whether one model version can stand in for another: both must take the same input columns with the same types."""

from collections.abc import Mapping


def signature_difference(current: Mapping[str, str], candidate: Mapping[str, str]) -> str | None:
    """What keeps `candidate` (column -> MLflow type) from reading the requests `current` reads, or None when nothing.

    Column order and optionality are left out on purpose: the service builds its frame by column name, and a column
    that became optional (missing values seen in feedback) still reads every request the other model read.
    """
    problems = []
    missing = sorted(set(current) - set(candidate))
    extra = sorted(set(candidate) - set(current))
    if missing:
        problems.append(f"it lacks {', '.join(map(repr, missing))}")
    if extra:
        problems.append(f"it also needs {', '.join(map(repr, extra))}")
    changed = [
        f"{name!r} is {candidate[name]} not {kind}"
        for name, kind in current.items()
        if candidate.get(name, kind) != kind
    ]
    problems.extend(changed)
    return "; ".join(problems) or None
