"""The `{{ cookiecutter.package_name }}` command: one sub-command per lifecycle step, each a thin call into a job module."""

import typer

app = typer.Typer(
    help="{{ cookiecutter.project_slug }}: data, training, promotion, serving and monitoring of one ML product.",
    no_args_is_help=True,
    add_completion=False,
)


# Job modules are imported inside each command so that `--help` and `serve` stay fast and light.
@app.command()
def ingest() -> None:
    """Materialise data.source into data/raw/ (the DVC `ingest` stage)."""
    from .jobs import ingest as job

    job.main()


@app.command()
def validate() -> None:
    """Check data/raw/ against the expectations kept in the repository (the DVC `validate` stage)."""
    from .jobs import validate as job

    job.main()


@app.command()
def split() -> None:
    """Seeded train/test split into data/processed/ (the DVC `split` stage)."""
    from .jobs import split as job

    job.main()


@app.command()
def train() -> None:
    """Fit the model pipeline, log it to MLflow and register a new version (the DVC `train` stage)."""
    from .jobs import train as job

    job.main()


@app.command()
def evaluate() -> None:
    """Write test metrics and plots for DVC (the DVC `evaluate` stage)."""
    from .jobs import evaluate as job

    job.main()


@app.command()
def promote() -> None:
    """Move @champion to the newest version only if it beats the champion by the margin in params.yaml."""
    from .jobs import promote as job

    raise typer.Exit(job.main())
