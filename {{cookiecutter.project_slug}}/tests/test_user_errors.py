"""Every command reports a failure in one sentence: a UserError as written, anything else in one line."""

import pytest

from {{ cookiecutter.package_name }}.user_errors import TRACEBACK_VARIABLE, UserError, reported, run_job


def test_a_user_error_is_one_line_on_stderr_and_exit_code_1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited, reported("train"):
        raise UserError("params.yaml: train.seed must be an integer, not 'x': write a whole number")
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err == "[train] error: params.yaml: train.seed must be an integer, not 'x': write a whole number\n"


def test_an_unexpected_error_is_one_line_that_says_how_to_see_the_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TRACEBACK_VARIABLE, raising=False)
    with pytest.raises(SystemExit) as exited, reported("monitor"):
        raise KeyError("first line\nsecond line")
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert "KeyError" in err and f"{TRACEBACK_VARIABLE}=1" in err


def test_traceback_1_lets_the_error_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TRACEBACK_VARIABLE, "1")
    with pytest.raises(KeyError), reported("monitor"):
        raise KeyError("shown with its traceback")


def test_run_job_exits_with_the_jobs_code() -> None:
    with pytest.raises(SystemExit) as exited:
        run_job(lambda: 3, "promote")
    assert exited.value.code == 3
    with pytest.raises(SystemExit) as exited:
        run_job(lambda: None, "ingest")
    assert exited.value.code == 0
