"""The one rule "can this version replace the served one?", as a table of compatible and incompatible versions.

The served version is a real registered champion, loaded as the service loads it; each candidate changes one
thing about it. The same rule answers the service's reload (test_reload.py), rollback (tests/jobs/test_rollback.py)
and promote, which retrain runs (tests/jobs/test_promote.py).
"""

import dataclasses
import re
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.core.model_inputs import Feature
from {{ cookiecutter.package_name }}.service.replacement import refusal, smoke_record
from {{ cookiecutter.package_name }}.service.served_model import ServedModel, fetch_served_model

from .conftest import MODEL_NAMES, TASK

CLASSIFIER = TASK == "classification"


@pytest.fixture(scope="module")
def served(tracking_uri: str) -> ServedModel:
    return fetch_served_model(tracking_uri, f"models:/{MODEL_NAMES[TASK]}@champion")


def changed(served: ServedModel, change: str) -> ServedModel:
    """The served version with one thing changed, as a later training run could change it."""
    other_task = "regression" if served.task == "classification" else "classification"
    changes: dict[str, dict[str, Any]] = {
        "nothing": {},
        "a column added": {"features": (*served.features, Feature("tenure (months)", "double"))},
        "a column dropped": {"features": served.features[1:]},
        "a column retyped": {"features": (Feature(served.features[0].name, "string"), *served.features[1:])},
        "the task": {"task": other_task},
        "the classes": {"classes": ("benign", "malignant")},
        # An object with no predict at all: as a version whose custom step fails on every call.
        "a failing pipeline": {"pipeline": object()},
    }
    return dataclasses.replace(served, version="7", **changes[change])


@pytest.mark.parametrize(
    ("change", "refused_because"),
    [
        ("nothing", None),
        ("a column added", r"version 7 cannot take version \d+'s requests: it also needs 'tenure \(months\)'"),
        ("a column dropped", r"version 7 cannot take version \d+'s requests: it lacks"),
        ("a column retyped", r"version 7 cannot take version \d+'s requests: .* is string not"),
        ("the task", r"version 7 is a \w+ model, version \d+ is a \w+ one"),
        *([("the classes", r"version 7 predicts the classes \['benign', 'malignant'\]")] if CLASSIFIER else []),
        ("a failing pipeline", r"version 7 failed a prediction on one record: AttributeError"),
    ],
)
def test_a_version_replaces_the_served_one_only_if_it_answers_the_same_requests(
    served: ServedModel, change: str, refused_because: str | None
) -> None:
    reason = refusal(served, changed(served, change))
    if refused_because is None:
        assert reason is None
    else:
        assert reason is not None
        assert re.search(refused_because, reason), reason


def test_the_smoke_record_sits_inside_the_training_ranges(served: ServedModel) -> None:
    record = smoke_record(served)
    assert set(record) == {feature.name for feature in served.features}
    for name, (low, high) in served.ranges.items():
        assert low <= record[name] <= high
