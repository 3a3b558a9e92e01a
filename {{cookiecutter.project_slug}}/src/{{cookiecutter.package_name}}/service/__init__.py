"""The prediction service: a FastAPI app factory that serves the registry's champion and logs every prediction."""
