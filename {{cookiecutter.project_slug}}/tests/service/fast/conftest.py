"""The fast pieces are tested on their own, once: the mode switch of the parent folder does not apply here."""

import pytest


@pytest.fixture(autouse=True)
def serving_mode(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SERVING_MODE", "fast")
    return "fast"
