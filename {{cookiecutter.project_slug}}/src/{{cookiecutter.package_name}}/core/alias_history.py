"""Alias moves as records: who moved an alias from which version to which, when, why, and with which scores.

Where a move is kept in the MLflow registry (io/tracking.set_alias writes both, tests/core/test_alias_history.py checks
the shapes):

- On the version moved to, tags `<alias>.moved_at`, `<alias>.moved_by`, `<alias>.from_version`, `<alias>.reason`,
  `<alias>.scores`: the version's page in the MLflow UI says how it got its alias, most recent move to it only.
- On the registered model, one tag per move, `<alias>.move.<sequence>` = the move as compact JSON: the timeline.
- On the registered model, while a move is under way, `<alias>.pending` = the move about to be made, in the same JSON:
  a command that stops half-way (a registry that went away) leaves it, and the next one finishes or drops that move.

One tag per move rather than one JSON tag holding the whole timeline: a registry tag value is capped (5000 bytes on
every MLflow store), so a single tag would have to drop old moves to make room, and an audit trail that forgets is
no audit trail. A move's own tag is bounded instead (its reason is shortened to fit), and the keys sort by sequence in
the UI's tag table.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Bytes of UTF-8: the size of a registry tag value that MLflow guarantees on every store (its SQL stores use a
# VARCHAR(5000)); the file store and newer servers take more, but a record must survive a move to any of them.
MAX_TAG_VALUE = 5000
ROLLBACK = "rollback"  # the reason a rollback records, `rollback: <why>` when the user says why
CI_ACTORS = ("GITHUB_ACTOR", "GITLAB_USER_LOGIN")


@dataclass(frozen=True)
class Move:
    """One alias move. Versions as MLflow spells them ("3"); from_version is None for the first holder."""

    alias: str
    to_version: str
    from_version: str | None
    at: str  # UTC, ISO 8601 with a Z
    actor: str
    reason: str
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def is_rollback(self) -> bool:
        return self.reason == ROLLBACK or self.reason.startswith(f"{ROLLBACK}:")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def actor(env: Mapping[str, str], git_user: str | None, os_user: str) -> str:
    """Who moves the alias: CI's user in CI (GitHub, GitLab, else "ci"), else git's user.name, else the OS user."""
    for variable in CI_ACTORS:
        if env.get(variable, "").strip():
            return env[variable].strip()
    if env.get("CI", "").strip().lower() not in ("", "0", "false"):
        return "ci"
    return (git_user or "").strip() or os_user


def rollback_reason(why: str | None) -> str:
    return f"{ROLLBACK}: {why.strip()}" if why and why.strip() else ROLLBACK


def move_tag_key(alias: str, sequence: int) -> str:
    # Zero-padded so that the MLflow UI, which sorts tags by key, lists the moves in order.
    return f"{alias}.move.{sequence:05d}"


def pending_tag_key(alias: str) -> str:
    return f"{alias}.pending"


def _as_json(move: Move, reason: str) -> str:
    content: dict[str, Any] = {
        "at": move.at,
        "by": move.actor,
        "from": move.from_version,
        "to": move.to_version,
        "reason": reason,
        "scores": move.scores,
    }
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"))


def size(text: str) -> int:
    """A tag value's size as MLflow's limit counts it: bytes of UTF-8."""
    return len(text.encode("utf-8"))


def clip(text: str, limit: int = MAX_TAG_VALUE) -> str:
    """`text` within `limit` bytes, ending with an ellipsis when it was cut (never in the middle of a character)."""
    if size(text) <= limit:
        return text
    if limit < size("…"):
        return ""
    return text.encode("utf-8")[: limit - size("…")].decode("utf-8", errors="ignore") + "…"


def move_tag_value(move: Move) -> str:
    """The move as compact JSON, within MAX_TAG_VALUE: a long reason (an error message, say) is cut to fit."""
    text = _as_json(move, move.reason)
    if size(text) <= MAX_TAG_VALUE:
        return text
    # The longest start of the reason that fits once in JSON: escapes and UTF-8 make the bytes per character vary,
    # so search for it rather than compute it.
    low, high = 0, len(move.reason)
    while low < high:
        middle = (low + high + 1) // 2
        if size(_as_json(move, move.reason[:middle] + "…")) <= MAX_TAG_VALUE:
            low = middle
        else:
            high = middle - 1
    return _as_json(move, move.reason[:low] + "…")


def version_tags(move: Move) -> dict[str, str]:
    """The tags for the version moved to: its MLflow page then says how it got the alias."""
    prefix = move.alias
    return {
        f"{prefix}.moved_at": move.at,
        f"{prefix}.moved_by": clip(move.actor),
        f"{prefix}.from_version": move.from_version or "none",
        f"{prefix}.reason": clip(move.reason),
        f"{prefix}.scores": json.dumps(move.scores, separators=(",", ":")),
    }


def next_sequence(tags: Mapping[str, str], alias: str) -> int:
    """The sequence number of the next move of `alias`, one past the highest found in the registered model's tags."""
    return max((sequence for sequence, _ in _moves(tags, alias)), default=0) + 1


def timeline(tags: Mapping[str, str], alias: str) -> list[Move]:
    """The moves of `alias` recorded in a registered model's tags, oldest first; tags that are not moves are ignored."""
    return [move for _, move in sorted(_moves(tags, alias), key=lambda found: found[0])]


def _moves(tags: Mapping[str, str], alias: str) -> Iterable[tuple[int, Move]]:
    prefix = f"{alias}.move."
    for key, value in tags.items():
        sequence = key.removeprefix(prefix)
        if key.startswith(prefix) and sequence.isdigit():
            yield int(sequence), parse_move(alias, value)


def parse_move(alias: str, value: str) -> Move:
    """A move from its tag value (move_tag_value's JSON)."""
    content = json.loads(value)
    return Move(
        alias=alias,
        to_version=str(content["to"]),
        from_version=None if content.get("from") is None else str(content["from"]),
        at=str(content.get("at", "")),
        actor=str(content.get("by", "")),
        reason=str(content.get("reason", "")),
        scores={str(name): float(number) for name, number in (content.get("scores") or {}).items()},
    )


def previous_champion(moves: list[Move], current: str) -> str | None:
    """The version to roll back to: the one that held the alias before `current` last received it by a promotion.

    Rollbacks are skipped, so that rolling back twice walks two promotions back rather than undoing the first
    rollback. None when the timeline does not say (current was the first champion, or the history began later).
    """
    for move in reversed(moves):
        if move.to_version == current and not move.is_rollback:
            return move.from_version
    return None
