"""One router per concern: health, predict, feedback (with the prediction log) and model."""
