"""Send realistic traffic to a running service: held-out records one by one, then feedback for a share of them.

Covariate drift (`--drift`) moves the inputs; concept drift (`--concept-drift`) changes the truth that feedback
carries, which monitoring can only see through feedback.
"""

import ipaddress
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import numpy as np
import pandas as pd

from ..core.api_keys import secret_for
from ..core.features import as_text
from ..core.model_inputs import INTEGER_TYPES, kinds_of
from ..core.simulation import concept_drift, drift_features, noisy_labels, records
from ..params import Task, load_params
from ..settings import get_settings
from ..user_errors import UserError, first_line
from .context import TEST

MAX_REQUESTS = 100_000


@dataclass
class Tally:
    predictions: int = 0
    feedback: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def line(self) -> str:
        errors = ", ".join(f"{reason} x{count}" for reason, count in self.errors.most_common()) or "none"
        return f"{self.predictions} predictions and {self.feedback} feedback in {self.seconds:.1f} s; errors: {errors}"


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def served_features(client: httpx2.Client) -> tuple[Task, dict[str, str], list[Any]]:
    """(task, feature name -> signature type, classes) of the model the service serves, from GET /model."""
    response = client.get("/model")
    response.raise_for_status()
    info = response.json()
    inputs = info["signature"]["inputs"]
    return info["task"], {str(spec["name"]): str(spec["type"]) for spec in inputs}, list(info["classes"])


def read_held_out(path: Path, types: dict[str, str]) -> pd.DataFrame:
    categorical = [name for name, kind in kinds_of(types).items() if kind == "categorical"]
    frame = pd.read_csv(path, dtype=dict.fromkeys(categorical, "str"))
    for name in categorical:
        frame[name] = as_text(frame[name])
    return frame


def simulate(
    client: httpx2.Client,
    held_out: pd.DataFrame,
    target: str,
    n: int,
    drift: float = 0.0,
    feedback_rate: float = 0.0,
    label_noise: float = 0.0,
    seed: int = 0,
    concept: float = 0.0,
    feedback_headers: dict[str, str] | None = None,
) -> Tally:
    """POST n records drawn (seeded, with replacement) from held_out, drifted by `drift`; then POST the true label,
    changed by concept drift `concept` and made noisy for a share label_noise, as feedback on a share feedback_rate of
    the answered predictions. feedback_headers: the feedback key's, when it is not the client's predict key."""
    if not 0 < n <= MAX_REQUESTS:
        raise ValueError(f"--n must be between 1 and {MAX_REQUESTS}")
    started, tally = time.perf_counter(), Tally()
    rng = np.random.default_rng(seed)
    task, types, classes = served_features(client)
    kinds = kinds_of(types)
    drawn = held_out.iloc[rng.integers(0, len(held_out), n)].reset_index(drop=True)
    features = drift_features(drawn[list(types)], kinds, drift, rng)
    for name, kind in types.items():  # an integer column shifted by a fraction is still sent as an integer
        if kind in INTEGER_TYPES:
            features[name] = features[name].round().astype("Int64").astype(object)
    truth = concept_drift(features, drawn[target], task, concept, kinds, rng)
    answered: list[tuple[str, Any]] = []
    for record, actual in zip(records(features), truth.tolist(), strict=True):
        response = client.post("/predict", json=record)
        if response.status_code == httpx2.codes.OK:
            tally.predictions += 1
            answered.append((response.json()["prediction_id"], actual))
        else:
            tally.errors[f"predict {response.status_code}"] += 1
    chosen = [pair for pair in answered if rng.random() < feedback_rate]
    truths = noisy_labels(pd.Series([actual for _, actual in chosen], dtype=object), task, label_noise, rng, classes)
    for (prediction_id, _), actual in zip(chosen, records(truths.to_frame("actual")), strict=True):
        # The service records the sender from its API key, not from the body.
        body = {"prediction_id": prediction_id, "actual": actual["actual"]}
        response = client.post("/feedback", json=body, headers=feedback_headers)
        if response.status_code in (httpx2.codes.OK, httpx2.codes.CREATED):
            tally.feedback += 1
        else:
            tally.errors[f"feedback {response.status_code}"] += 1
    tally.seconds = time.perf_counter() - started
    return tally


def as_header(secret: str | None) -> dict[str, str]:
    return {"X-API-Key": secret} if secret else {}


def main(
    url: str,
    n: int,
    drift: float = 0.0,
    feedback_rate: float = 0.3,
    label_noise: float = 0.0,
    seed: int = 0,
    allow_remote: bool = False,
    concept: float = 0.0,
) -> int:
    """Exit code 1 when any request failed."""
    if not (is_loopback(url) or allow_remote):
        raise SystemExit(f"refusing to send synthetic traffic to {url}: not a loopback address (--allow-remote)")
    settings, params = get_settings(), load_params()
    # Each request carries the first key with the scope it needs (a web key may predict without labelling).
    keys = settings.service_keys()
    headers = {scope: as_header(secret_for(keys, scope)) for scope in ("predict", "feedback")}
    with httpx2.Client(base_url=url, headers=headers["predict"], timeout=30.0) as client:
        try:
            _, types, _ = served_features(client)
        except httpx2.TransportError as error:
            raise UserError(
                f"nothing answers at {url} ({first_line(error)}): start the service with `make serve` in another "
                "terminal, or pass --url"
            ) from None
        held_out = read_held_out(settings.project_root / TEST, types)
        target, feedback = params.data.target, headers["feedback"]
        tally = simulate(client, held_out, target, n, drift, feedback_rate, label_noise, seed, concept, feedback)
    print(
        f"Simulated traffic to {url} (drift {drift}, concept drift {concept}, feedback {feedback_rate * 100:.0f}%): "
        f"{tally.line()}"
    )
    return 1 if tally.errors else 0
