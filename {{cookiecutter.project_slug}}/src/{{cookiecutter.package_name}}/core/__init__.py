"""Pure domain code: no files, no network, no MLflow; everything here is a function of its arguments."""
