"""Spans of time as a user types them on the command line: `30m`, `24h`, `7d`, `2w`."""

import re
from datetime import timedelta

RELATIVE = re.compile(r"^(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>[smhdw])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta | None:
    """The span `text` names (a number, then s, m, h, d or w), or None when it names none."""
    relative = RELATIVE.match(text.strip())
    if relative is None:
        return None
    return timedelta(**{UNITS[relative["unit"]]: float(relative["amount"])})
