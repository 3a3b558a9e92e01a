"""Alias move records: the actor rule, the tag shapes, the timeline read back, and where a rollback goes."""

import json

import pytest

from {{ cookiecutter.package_name }}.core.alias_history import (
    MAX_TAG_VALUE,
    Move,
    actor,
    move_tag_key,
    move_tag_value,
    next_sequence,
    previous_champion,
    rollback_reason,
    timeline,
    version_tags,
)


def move(to: str, before: str | None, reason: str = "beats the champion", **changes: object) -> Move:
    values: dict[str, object] = {
        "alias": "champion",
        "to_version": to,
        "from_version": before,
        "at": "2026-11-26T10:00:00Z",
        "actor": "ada",
        "reason": reason,
        "scores": {"gate.candidate_test_roc_auc": 0.91, "gate.champion_test_roc_auc": 0.88},
    }
    return Move(**(values | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("env", "git_user", "expected"),
    [
        ({"CI": "true", "GITHUB_ACTOR": "octocat"}, "Ada", "octocat"),
        ({"CI": "true", "GITLAB_USER_LOGIN": "tanuki"}, "Ada", "tanuki"),
        ({"CI": "true"}, "Ada", "ci"),
        ({"CI": "1"}, None, "ci"),
        ({"CI": "false"}, "Ada Lovelace", "Ada Lovelace"),
        ({}, "Ada Lovelace", "Ada Lovelace"),
        ({}, "  ", "osuser"),
        ({}, None, "osuser"),
    ],
)
def test_the_actor_is_ci_then_git_then_the_os_user(env: dict[str, str], git_user: str | None, expected: str) -> None:
    assert actor(env, git_user, "osuser") == expected


def test_a_move_tag_reads_back_as_the_same_move() -> None:
    original = move("4", "3")
    tags = {move_tag_key("champion", 1): move_tag_value(original), "owner": "team"}
    assert timeline(tags, "champion") == [original]
    assert json.loads(tags["champion.move.00001"])["by"] == "ada"


def test_the_timeline_is_ordered_by_sequence_and_ignores_other_aliases_and_tags() -> None:
    moves = [move(str(n + 1), str(n)) for n in range(12)]
    tags = {move_tag_key("champion", n + 1): move_tag_value(found) for n, found in enumerate(moves)}
    tags |= {move_tag_key("challenger", 1): move_tag_value(move("9", None, alias="challenger")), "note": "x"}
    shuffled = dict(sorted(tags.items(), reverse=True))
    assert timeline(shuffled, "champion") == moves
    assert next_sequence(shuffled, "champion") == 13
    assert next_sequence(shuffled, "challenger") == 2
    assert next_sequence({}, "champion") == 1


def test_a_long_reason_is_cut_so_the_tag_fits_mlflows_limit() -> None:
    long = move("2", "1", reason="the champion cannot score the current test split: " + 'é"' * 6000)
    text = move_tag_value(long)
    # MLflow's limit is in bytes: é takes two, and a quote two in JSON; the cut keeps all that fits.
    assert MAX_TAG_VALUE - 4 <= len(text.encode("utf-8")) <= MAX_TAG_VALUE
    read = timeline({move_tag_key("champion", 1): text}, "champion")[0]
    assert read.reason.startswith("the champion cannot score") and read.reason.endswith("…")
    assert (read.to_version, read.from_version, read.scores) == ("2", "1", long.scores)
    assert all(len(value.encode("utf-8")) <= MAX_TAG_VALUE for value in version_tags(long).values())
    assert version_tags(long)["champion.reason"].endswith("…")


def test_version_tags_say_how_the_version_got_its_alias() -> None:
    tags = version_tags(move("1", None, reason="there is no champion yet"))
    assert tags["champion.from_version"] == "none"
    assert tags["champion.moved_by"] == "ada"
    assert tags["champion.reason"] == "there is no champion yet"
    assert json.loads(tags["champion.scores"])["gate.candidate_test_roc_auc"] == 0.91


def test_rolling_back_goes_to_the_champion_before_the_last_promotion_and_skips_rollbacks() -> None:
    promotions = [move("1", None), move("2", "1"), move("3", "2")]
    assert previous_champion(promotions, "3") == "2"
    once = [*promotions, move("2", "3", reason=rollback_reason(None))]
    assert previous_champion(once, "2") == "1"  # a second rollback walks further back, not forward to 3
    twice = [*once, move("1", "2", reason=rollback_reason("bad week"))]
    assert previous_champion(twice, "1") is None  # version 1 was the first champion
    assert previous_champion([], "3") is None


def test_a_rollback_reason_carries_the_users_words() -> None:
    assert rollback_reason(None) == "rollback"
    assert rollback_reason("  ") == "rollback"
    assert rollback_reason("latency regression") == "rollback: latency regression"
    assert move("1", "2", reason="rollback: latency regression").is_rollback
    assert not move("2", "1", reason="rollbacks are rare").is_rollback
