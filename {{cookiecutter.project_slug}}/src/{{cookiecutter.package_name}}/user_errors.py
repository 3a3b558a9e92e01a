"""Errors a user can fix, and the one way every command reports a failure: a sentence on stderr, not a traceback.

Code anywhere in the package raises UserError with one sentence that names the problem and the fix; the CLI
(`cli.main`) and each DVC stage's `python -m` entry (`run_job`) catch it here and print it. Anything else that escapes
is a bug or a failure nobody has put into words yet: it is reported in one line too, and `TRACEBACK=1` shows where.
"""

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

# Set to show the Python traceback of an unexpected error (for a bug report); a UserError never needs it.
TRACEBACK_VARIABLE = "TRACEBACK"


class UserError(Exception):
    """A problem the user can fix. Its message is one sentence naming the problem and the fix."""


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@contextmanager
def reported(step: str) -> Iterator[None]:
    """Run a command's body; turn what escapes it into one line on stderr and exit code 1 (130 when interrupted)."""
    try:
        yield
    except UserError as error:
        print(f"[{step}] error: {error}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        print(f"[{step}] interrupted", file=sys.stderr, flush=True)
        raise SystemExit(130) from None
    except Exception as error:
        explained = _put_into_words(error)
        if explained is not None:
            print(f"[{step}] error: {explained}", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
        if os.environ.get(TRACEBACK_VARIABLE):
            raise
        print(
            f"[{step}] unexpected error: {type(error).__name__}: {first_line(error)} "
            f"(run again with {TRACEBACK_VARIABLE}=1 to see where it happened, and report it)",
            file=sys.stderr,
            flush=True,
        )
        raise SystemExit(1) from None


def _put_into_words(error: Exception) -> UserError | None:
    """A failure of a service outside the project that someone has put into words: an MLflow server refusing the
    login or not answering (io/registry_errors.py, imported here, late, because io itself imports this module)."""
    from .io.registry_errors import as_user_error

    return as_user_error(error)


def run_job(main: Callable[[], int | None], step: str) -> NoReturn:
    """A DVC stage's entry (`python -m <package>.jobs.<step>`): main's exit code, or one line on failure."""
    with reported(step):
        code = main()
    raise SystemExit(code or 0)
