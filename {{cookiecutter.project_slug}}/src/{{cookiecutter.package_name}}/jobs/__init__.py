"""One module per lifecycle step: a pure-ish function that does the work and a thin main() that resolves paths."""
