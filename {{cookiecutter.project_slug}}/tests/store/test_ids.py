"""Primary keys are RFC 9562 version 7 UUIDs: time-ordered, unique, and carrying their creation time."""

import time
import uuid

from {{ cookiecutter.package_name }}.store.ids import new_id, new_id_bytes, new_ids


def test_ids_are_version_7_with_the_rfc_variant() -> None:
    for value in new_ids(50):
        assert (value.version, value.variant) == (7, uuid.RFC_4122)
        assert uuid.UUID(str(value)) == value


def test_ids_carry_the_creation_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    value = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= value.int >> 80 <= after


def test_later_ids_sort_after_earlier_ones_and_none_repeats() -> None:
    first = new_ids(1000)
    time.sleep(0.002)
    second = new_ids(1000)
    assert max(first) < min(second)
    assert len(set(first + second)) == 2000


def test_ids_built_as_bytes_for_a_batch_have_the_same_layout() -> None:
    before = time.time_ns() // 1_000_000
    values = [uuid.UUID(bytes=row.tobytes()) for row in new_id_bytes(1000)]
    after = time.time_ns() // 1_000_000
    assert {(value.version, value.variant) for value in values} == {(7, uuid.RFC_4122)}
    assert all(before <= value.int >> 80 <= after for value in values)
    assert len(set(values)) == 1000
