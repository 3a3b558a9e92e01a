"""Fetch the served model in a child process, so that the service process never imports MLflow.

MLflow and what it brings (its tracking store, protobuf, OpenTelemetry...) are needed once, at start, but would stay
in every worker's memory for the life of the process (docs/performance.md has the measured difference). The child
resolves MODEL_URI and loads the pipeline with MLflow's own loader (pickle, cloudpickle or skops alike), then hands
the result back pickled in a temporary file; the worker only unpickles it.
"""

import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

from ...settings import Settings
from ..served_model import ServedModel, fetch_served_model

# A registry behind a slow network may take a while to download a large model; a hung one must not hang start-up.
TIMEOUT_S = 600


class ModelLoadError(RuntimeError):
    """The child could not fetch the model; the message is the child's one-line reason."""


def load_in_child_process(settings: Settings) -> ServedModel:
    """Fetch MODEL_URI in a child Python and unpickle it here."""
    with tempfile.TemporaryDirectory(prefix="served-model-") as folder:
        output = Path(folder) / "model.pkl"
        command = [sys.executable, "-m", __name__, settings.mlflow_tracking_uri, settings.model_uri, str(output)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        if result.returncode != 0:
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            raise ModelLoadError(lines[-1] if lines else f"the loader exited with {result.returncode}")
        with output.open("rb") as file:
            # Written a moment ago by our own child, from the registry's artifact: the trust MLflow's loader asks.
            model = pickle.load(file)
    if not isinstance(model, ServedModel):
        raise ModelLoadError(f"the loader returned a {type(model).__name__}, not a ServedModel")
    return model


def main() -> None:
    """`python -m <package>.service.fast.child_loader TRACKING_URI MODEL_URI OUTPUT`: the child's side."""
    tracking_uri, model_uri, output = sys.argv[1:4]
    try:
        model = fetch_served_model(tracking_uri, model_uri)
    except Exception as exc:
        # One line, the last on stderr, which the parent reports as the reason (/ready and the log show it).
        print(f"{type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr)
        raise SystemExit(1) from None
    import cloudpickle  # MLflow's own choice for scikit-learn models: it also pickles functions defined in scripts

    Path(output).write_bytes(cloudpickle.dumps(model))


if __name__ == "__main__":
    main()
