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


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (0.0.0.0 in a container)"),
    port: int = typer.Option(8000, help="TCP port"),
    workers: int = typer.Option(1, min=1, help="Worker processes (each loads the model)"),
) -> None:
    """Serve MODEL_URI (the champion by default) with the prediction log and feedback API."""
    import uvicorn

    from .settings import get_settings
    from .store.database import create_db_engine, upgrade

    # Migrate once here, before the workers start (each one checks again at start, finding nothing to do).
    upgrade(create_db_engine(get_settings().database_url))
    # log_config=None: the app configures JSON logging itself, in every worker.
    uvicorn.run(
        f"{__package__}.service.app:create_app", factory=True, host=host, port=port, workers=workers, log_config=None
    )


db = typer.Typer(help="The prediction log database (DATABASE_URL).", no_args_is_help=True)
app.add_typer(db, name="db")


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations to DATABASE_URL (idempotent; the service also runs them at start)."""
    from .settings import get_settings
    from .store.database import create_db_engine, upgrade

    upgrade(create_db_engine(get_settings().database_url))
