"""Check data/raw/data.csv against data/expectations.json and fail with the list of what does not match."""

from ..core.schema import check_expectations
from ..io.datasets import read_frame
from ..params import Params, load_params
from ..settings import find_project_root
from ..user_errors import UserError, run_job
from .context import EXPECTATIONS, RAW, VALIDATION, Paths, load_expectations, say, write_json

HOW_TO_REINFER = (
    f"If the data changed on purpose, delete {EXPECTATIONS} (or edit it) and run `dvc repro` again: "
    "ingest re-infers the expectations from the new data."
)


def validate(params: Params, paths: Paths) -> list[str]:
    """The violations (empty when the data is as expected); writes a small report either way."""
    expectations = load_expectations(paths)
    frame = read_frame(paths / RAW, expectations, strict=False)
    say("validate", f"checking {len(frame)} rows and {len(frame.columns)} columns against {EXPECTATIONS}")
    violations = check_expectations(frame, expectations, params.data.target, params.task)
    write_json({"rows": len(frame), "columns": len(frame.columns), "violations": violations}, paths / VALIDATION)
    return violations


def main() -> None:
    violations = validate(load_params(), Paths(find_project_root()))
    if violations:
        # The list goes to stdout, one violation a line; the failure itself is the one line on stderr.
        for violation in violations:
            say("validate", f"  - {violation}")
        raise UserError(
            f"{len(violations)} expectation(s) not met (listed above and in {VALIDATION}). {HOW_TO_REINFER}"
        )
    say("validate", "all expectations met")


if __name__ == "__main__":
    run_job(main, "validate")
