"""Time-ordered UUIDs (version 7, RFC 9562) for primary keys: a new row lands at the end of the key's index.

Random (version 4) keys land anywhere in the index, so each row of a batch dirties a page of its own, in the SQLite
WAL and in PostgreSQL alike, and the cost grows with the table (docs/performance.md, Storage). The 74 random bits
keep ids unguessable and unique. Python 3.14 has uuid.uuid7; the project still supports 3.11.
"""

import os
import time
import uuid

import numpy as np

VERSION_7 = 0x7 << 76
VARIANT_RFC = 0x2 << 62
RANDOM_BITS = (1 << 74) - 1


def new_ids(count: int) -> list[uuid.UUID]:
    """`count` version 7 UUIDs: 48 bits of Unix time in milliseconds, then the version, the variant and 74 random
    bits (one read of the system's random source for all of them)."""
    prefix = (time.time_ns() // 1_000_000) << 80 | VERSION_7 | VARIANT_RFC
    randomness = os.urandom(10 * count)
    ids = []
    for start in range(0, 10 * count, 10):
        bits = int.from_bytes(randomness[start : start + 10], "big") & RANDOM_BITS
        # The 74 random bits fill bits 0-61 and 64-75, around the variant.
        ids.append(uuid.UUID(int=prefix | (bits >> 62) << 64 | (bits & ((1 << 62) - 1))))
    return ids


def new_id() -> uuid.UUID:
    return new_ids(1)[0]


def new_id_bytes(count: int) -> np.ndarray:
    """`count` version 7 UUIDs with the layout of `new_ids`, as rows of 16 bytes built without a Python loop.

    Batch scoring gives every row of a file an id; a million `uuid.UUID` objects would take seconds.
    """
    raw = np.frombuffer(os.urandom(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    raw[:, :6] = np.frombuffer((time.time_ns() // 1_000_000).to_bytes(6, "big"), dtype=np.uint8)
    raw[:, 6] = 0x70 | (raw[:, 6] & 0x0F)  # the version, then 4 of the 74 random bits
    raw[:, 8] = 0x80 | (raw[:, 8] & 0x3F)  # the variant, then 6 more
    return raw
