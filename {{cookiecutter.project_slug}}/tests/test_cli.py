"""The command line lists every lifecycle step, so the project runs without make."""

from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app


def test_help_lists_the_pipeline_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("ingest", "validate", "split", "train", "evaluate", "promote"):
        assert command in result.output
