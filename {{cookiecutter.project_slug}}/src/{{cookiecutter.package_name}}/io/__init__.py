"""Code that touches the world: files, sklearn bundled data sets, MLflow, git and DVC."""
