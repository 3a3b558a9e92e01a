"""Prometheus metrics of the service in the app's own registry: the business counters, and the scrape's text.

The HTTP metrics are prometheus-fastapi-instrumentator's defaults, in the same registry: its middleware records them
in plain mode, and fast mode records the same names, labels and buckets itself (service/fast/http_metrics.py).
"""

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

# Probes and scrapes are left out of the HTTP metrics: their steady beat would drown the real traffic.
UNMEASURED = frozenset({"/metrics", "/health", "/ready"})


class ServiceMetrics:
    """Everything /metrics shows: the HTTP metrics and the business counters of predictions and feedback."""

    def __init__(self) -> None:
        # The app's own registry, so that several apps (tests) in one process do not collide on metric names.
        self.registry = CollectorRegistry()
        self.predictions = Counter(
            "model_predictions", "Predictions logged", ["model_version", "endpoint"], registry=self.registry
        )
        self.feedback = Counter("model_feedback", "Feedback received", ["outcome"], registry=self.registry)

    def count_predictions(self, version: str, endpoint: str, count: int) -> None:
        self.predictions.labels(version, endpoint).inc(count)

    def exposition(self) -> tuple[bytes, str]:
        """The text format and its content type. With several workers (PROMETHEUS_MULTIPROC_DIR set before they
        start, as prometheus_client documents), the values of every worker, summed."""
        registry = self.registry
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
