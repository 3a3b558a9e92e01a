"""The `{{ cookiecutter.package_name }}` command: one sub-command per lifecycle step, each a thin call into a job module."""

import sys
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .user_errors import reported

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
def promote(
    approve: str | None = typer.Option(
        None, "--approve", metavar="VERSION", help="Serve the @challenger that waits for a person's approval"
    ),
    reason: str = typer.Option("", "--reason", help="Why you approve it, recorded with your name (with --approve)"),
) -> None:
    """Move @champion to the newest version only if it beats the champion by the margin in params.yaml; with
    --approve, serve the challenger that won only because the test-split guard was waived."""
    if approve is not None:
        from .jobs import approve as approval

        raise typer.Exit(approval.main(approve, reason))
    from .jobs import promote as job

    raise typer.Exit(job.main())


@app.command()
def history(as_json: bool = typer.Option(False, "--json", help="One JSON object, for tools")) -> None:
    """@champion's timeline from the MLflow registry, newest first: time, actor, from → to, scores, reason."""
    from .jobs import history as job

    raise typer.Exit(job.main(as_json))


@app.command()
def rollback(
    to: str | None = typer.Option(None, "--to", help="The version to serve (default: the previous champion)"),
    reason: str | None = typer.Option(None, "--reason", help="Why, recorded with the move"),
) -> None:
    """Move @champion back, refusing a version that does not exist or that the running service could not serve."""
    from .jobs import rollback as job

    raise typer.Exit(job.main(to, reason))


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (0.0.0.0 in a container)"),
    port: int = typer.Option(8000, envvar="API_PORT", help="TCP port (README: Ports)"),
    workers: int = typer.Option(1, min=1, help="Worker processes (each loads the model)"),
) -> None:
    """Serve MODEL_URI (the champion by default) with the prediction log and feedback API."""
    import os
    import tempfile

    import uvicorn

    from .settings import get_settings
    from .store.database import create_db_engine, upgrade

    # Migrate once here, before the workers start (each one checks again at start, finding nothing to do).
    upgrade(create_db_engine(get_settings().database_url))
    with tempfile.TemporaryDirectory(prefix="prometheus-") as metrics_dir:
        if workers > 1:
            # Each worker counts in its own memory; prometheus_client's multiprocess mode shares the counts through
            # files in this folder, so that /metrics answers for all workers whichever one serves the scrape.
            os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics_dir)
        # log_config=None: the app configures JSON logging itself, in every worker.
        app_factory = f"{__package__}.service.app:create_app"
        uvicorn.run(app_factory, factory=True, host=host, port=port, workers=workers, log_config=None)


db = typer.Typer(help="The prediction log database (DATABASE_URL).", no_args_is_help=True)
app.add_typer(db, name="db")


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations to DATABASE_URL (idempotent; the service also runs them at start)."""
    from .settings import get_settings
    from .store.database import create_db_engine, upgrade

    upgrade(create_db_engine(get_settings().database_url))


def _older_than(text: str) -> timedelta:
    from .core.durations import parse_duration

    span = parse_duration(text)
    if span is None or span.total_seconds() <= 0:
        message = f"expects a positive span like 30d, 12h or 2w, got {text!r}"
        raise typer.BadParameter(message, param_hint="--older-than")
    return span


@db.command("archive")
def db_archive(
    older_than: str = typer.Option("30d", "--older-than", help="Archive predictions older than this: 30d, 12h, 2w"),
    # At most 30,000: a batch's ids are bound parameters of one statement, and SQLite takes at most 32,766.
    batch_size: int | None = typer.Option(
        None, "--batch-size", min=1, max=30_000, help="Rows per delete transaction (default 5000)"
    ),
    # A pod has no project checkout: the Kubernetes CronJob writes to its volume instead (docs/team-stack.md).
    into: Annotated[
        Path | None,
        typer.Option("--into", metavar="FOLDER", help="Where the Parquet goes (default: data/archive/predictions)"),
    ] = None,
) -> None:
    """Move older predictions and all their feedback to Parquet in data/archive/predictions/, then delete them."""
    span = _older_than(older_than)
    from .jobs import archive as job

    raise typer.Exit(job.main(span, batch_size or job.BATCH_SIZE, into))


registry = typer.Typer(help="Users of the MLflow server's basic-auth app (docs/team-stack.md).", no_args_is_help=True)
app.add_typer(registry, name="registry")


@registry.command("create-user")
def registry_create_user(
    username: str = typer.Argument(..., help="The new user's name"),
    editor: bool = typer.Option(
        False, "--editor/--read-only", help="EDIT on the experiment and model (jobs), or read-only (the service)"
    ),
    password_env: str | None = typer.Option(
        None, "--password-env", help="The variable holding its password (default: generate one and print it)"
    ),
) -> None:
    """Create a user on the MLflow server (run as its admin) and print its generated password once."""
    from .jobs import registry_users as job

    raise typer.Exit(job.main(username, "editor" if editor else "read-only", password_env))


@app.command()
def monitor(
    last: int | None = typer.Option(None, "--last", min=1, help="Only the last N predictions"),
    since: str | None = typer.Option(None, "--since", help="Only predictions since a time: 24h, 7d or ISO 8601"),
    fail: bool = typer.Option(True, "--fail/--no-fail", help="Exit 1 when a threshold is crossed"),
    retrain_on_breach: bool = typer.Option(False, "--retrain-on-breach", help="Run `retrain` when one is crossed"),
    scored: Annotated[
        Path | None,
        typer.Option("--scored", metavar="OUTPUT", help="A batch `score` wrote, not the logged predictions"),
    ] = None,
    window_from: str | None = typer.Option(
        None, "--from", metavar="TIME", help="A window from 60d or ISO 8601, archive included (docs/monitoring.md)"
    ),
    window_to: str | None = typer.Option(None, "--to", metavar="TIME", help="The window's end (default now)"),
) -> None:
    """Evidently drift, data and quality report of the champion's logged predictions against its training data."""
    if last is not None and since is not None:
        raise typer.BadParameter("use --last or --since, not both")
    if (window_from is not None or window_to is not None) and (
        last is not None or since is not None or scored is not None
    ):
        raise typer.BadParameter("--from/--to is a window of its own: leave out --last, --since and --scored")
    if scored is not None and (last is not None or since is not None or retrain_on_breach):
        raise typer.BadParameter("--scored reads a batch: --last, --since and --retrain-on-breach are for the log")
    _check_window(since, window_from, window_to)
    from .jobs import monitor as job

    raise typer.Exit(
        job.main(
            last=last,
            since=since,
            fail=fail,
            retrain_on_breach=retrain_on_breach,
            scored=scored,
            window_from=window_from,
            window_to=window_to,
        )
    )


def _check_window(since: str | None, window_from: str | None, window_to: str | None) -> None:
    """A sentence for a time monitor cannot read, before any model is loaded (the job reads the same times)."""
    from datetime import UTC, datetime

    from .core.monitoring import parse_since, range_window

    now = datetime.now(UTC)
    try:
        if since is not None:
            parse_since(since, now)
        if window_to is not None and window_from is None:
            raise ValueError("--to ends a window that --from starts: give --from too")
        if window_from is not None:
            range_window(window_from, window_to, now)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


class ScoreEngine(StrEnum):
    pandas = "pandas"
    spark = "spark"


@app.command()
def score(
    input_location: Annotated[str, typer.Argument(metavar="INPUT", help="A .csv or .parquet file, or a folder")],
    output: Annotated[Path, typer.Argument(metavar="OUTPUT", help="The Parquet dataset (a folder) to write")],
    model_uri: str | None = typer.Option(None, "--model-uri", help="Default: MODEL_URI (the champion)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier OUTPUT and what is beside it"),
    engine: Annotated[
        ScoreEngine, typer.Option("--engine", help="pandas here, or spark (`make install-spark`)")
    ] = ScoreEngine.pandas,
    master: str | None = typer.Option(None, "--master", help="Spark's master URL (default local[*]; docs/batch.md)"),
) -> None:
    """Score a batch: predictions with lineage per row in OUTPUT, rejected rows in OUTPUT-rejected (docs/batch.md)."""
    from .jobs import score as job

    raise typer.Exit(job.main(input_location, output, model_uri, overwrite, engine.value, master))


feedback = typer.Typer(help="Outcomes of predictions, besides POST /feedback.", no_args_is_help=True)
app.add_typer(feedback, name="feedback")


@feedback.command("import")
def feedback_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A .csv or .parquet file: prediction_id, actual")],
    scored: Annotated[Path, typer.Option("--scored", metavar="OUTPUT", help="The batch `score` wrote these ids in")],
) -> None:
    """Store the outcomes of batch rows by prediction_id, as POST /feedback would, with source file:<FILE's name>."""
    from .jobs import feedback_import as job

    raise typer.Exit(job.main(file, scored))


@app.command()
def simulate(
    url: str = typer.Option("http://127.0.0.1:8000", help="The running service"),
    n: int = typer.Option(200, min=1, max=100_000, help="Predictions to request, one record each"),
    drift: float = typer.Option(0.0, min=0.0, help="0: held-out data as is; 1: shifted by a standard deviation"),
    feedback_rate: float = typer.Option(0.3, min=0.0, max=1.0, help="Share of predictions that get feedback"),
    label_noise: float = typer.Option(0.0, min=0.0, max=1.0, help="Share of feedback labels flipped or perturbed"),
    concept_drift: float = typer.Option(
        0.0,
        min=0.0,
        help="0: today's truth; S: a seeded share S/(1+S) of the rows gets the class the other end of the first "
        "numeric feature used to mean, or the target's slope on that feature changes by S standard deviations",
    ),
    seed: int = typer.Option(0, help="Seed of the draws, the drift and the noise"),
    allow_remote: bool = typer.Option(False, "--allow-remote", help="Allow a host that is not loopback"),
) -> None:
    """Send synthetic traffic drawn from the held-out split to a running service, then feedback."""
    from .jobs import simulate as job

    raise typer.Exit(job.main(url, n, drift, feedback_rate, label_noise, seed, allow_remote, concept_drift))


@app.command()
def retrain() -> None:
    """Export feedback to data/feedback/ (DVC), train on train split + feedback, evaluate and run the promotion gate."""
    from .jobs import retrain as job

    raise typer.Exit(job.main())


@app.command()
def doctor(as_json: bool = typer.Option(False, "--json", help="One JSON document for tools")) -> None:
    """Where you stand: the machine (Python, git, disk, ports) and each lifecycle step, with the next command."""
    from .jobs import doctor as job

    raise typer.Exit(job.main(as_json=as_json))


def main() -> None:
    """The console script: every command's failure is one sentence on stderr (user_errors.py), never a traceback."""
    words = [argument for argument in sys.argv[1:] if not argument.startswith("-")]
    command = words[0] if words else "{{ cookiecutter.package_name }}"
    with reported(command):
        app()
