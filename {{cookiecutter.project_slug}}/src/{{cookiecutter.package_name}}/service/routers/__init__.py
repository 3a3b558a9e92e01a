"""One router per concern: probes, predictions, feedback (with the prediction log), model info, reports, metrics."""
