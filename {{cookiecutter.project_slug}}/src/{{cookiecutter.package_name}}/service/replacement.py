"""Can this version replace the served one? The one rule, asked by the service's reload and by promote, rollback
and retrain before they move @champion, so that the registry never names a version the running service refuses.

The request and response schemas of a running service were built at start from the first model it served; a
version with other features, another task or other classes would turn valid requests into errors, and one that
cannot score a record inside its own training ranges would answer every request with one.
"""

from typing import Any

from ..core.input_signature import signature_difference
from ..core.model_inputs import INTEGER_TYPES
from ..settings import Settings
from .served_model import ServedModel, fetch_served_model
from .unscorable import Unscorable


def smoke_record(model: ServedModel) -> dict[str, Any]:
    """One valid record: numbers in the middle of their training range (or 0), other features missing (imputed)."""
    values: dict[str, Any] = {}
    for feature in model.features:
        if feature.numeric:
            low, high = model.ranges.get(feature.name, (0.0, 0.0))
            middle = (low + high) / 2
            values[feature.name] = round(middle) if feature.type in INTEGER_TYPES else middle
        else:
            values[feature.name] = None
    return values


def refusal(current: ServedModel, candidate: ServedModel) -> str | None:
    """Why `candidate` cannot answer the requests `current` answers, in one sentence, or None when it can."""
    name = f"version {candidate.version}"
    columns = signature_difference(
        {f.name: f.type for f in current.features}, {f.name: f.type for f in candidate.features}
    )
    if columns is not None:
        return f"{name} cannot take version {current.version}'s requests: {columns}"
    if candidate.task != current.task:
        return f"{name} is a {candidate.task} model, version {current.version} is a {current.task} one"
    if candidate.task == "classification" and set(candidate.classes) != set(current.classes):
        return (
            f"{name} predicts the classes {list(candidate.classes)}, "
            f"version {current.version} predicts {list(current.classes)}"
        )
    try:
        [output] = candidate.predict([smoke_record(candidate)])
    except Exception as exc:
        return f"{name} failed a prediction on one record: {type(exc).__name__}: {exc}"
    if isinstance(output, Unscorable):
        return f"{name} could not score a record in its training ranges: {output.message}"
    return None


def registered_refusal(settings: Settings, current_version: str, candidate_version: str) -> str | None:
    """The same rule for two registered versions of the settings' model, each loaded as the service loads it."""
    uri = settings.mlflow_tracking_uri
    name = settings.model_name
    current = fetch_served_model(uri, f"models:/{name}/{current_version}")
    candidate = fetch_served_model(uri, f"models:/{name}/{candidate_version}")
    return refusal(current, candidate)
