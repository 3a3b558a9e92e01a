"""Validate the answers before cookiecutter writes anything, so a wrong answer leaves no folder behind."""

import json
import keyword
import re
import sys

# python-slugify is a dependency of cookiecutter itself, and hooks run with cookiecutter's own interpreter.
from slugify import slugify

# cookiecutter renders every answer into this raw string as JSON, so a quote, a backslash or code in an answer stays
# data. The file is plain Python before rendering too: ruff lints it, and the template's tests import its lists.
RENDERED_ANSWERS = r"""{{ cookiecutter | tojson }}"""

# Each entry: the answers that clash, and the sentence that says what to choose instead. The tests import this list.
UNSUPPORTED = (
    (
        {"tracking": "server", "dvc_remote": "local"},
        "tracking=server with dvc_remote=local would record data versions on a shared server that only your laptop "
        "can restore; choose dvc_remote=s3 (or none) with tracking=server, or keep tracking=local.",
    ),
)

# Names a package must not take: importing it would shadow a dependency the project needs.
DEPENDENCIES = {
    "alembic",
    "dvc",
    "evidently",
    "fastapi",
    "httpx",
    "joblib",
    "mlflow",
    "mypy",
    "numpy",
    "pandas",
    "prometheus_client",
    "psycopg",
    "pydantic",
    "pydantic_settings",
    "pytest",
    "ruff",
    "scipy",
    "sklearn",
    "sqlalchemy",
    "starlette",
    "typer",
    "uvicorn",
    "yaml",
    # Not dependencies, but folder and entry-point names that an import of the package would collide with.
    "test",
    "tests",
    "src",
    "app",
    "setup",
}
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")

# No list of choices here: cookiecutter itself refuses a choice that is not in cookiecutter.json's list, whether it is
# prompted or given on the command line, before anything is written (tests/test_hooks.py proves it).


def derived_name(text: str) -> str:
    """The name cookiecutter.json derives from `text`: transliterated, `_`-separated, `ml_` before a leading digit."""
    slug = slugify(text, separator="_") or "my_ml_product"
    return "ml_" + slug if slug[:1].isdigit() else slug


def name_problem(field: str, value: str) -> str | None:
    """Return why `value` cannot be the project's slug or package name, or None when it can."""
    if not IDENTIFIER.fullmatch(value):
        return f"{field} {value!r} is not a lowercase Python identifier; type something like {derived_name(value)!r}."
    if keyword.iskeyword(value):
        return f"{field} {value!r} is a Python keyword; type something like '{value}_model'."
    if value in sys.stdlib_module_names or value in DEPENDENCIES:
        return (
            f"{field} {value!r} would shadow the module {value!r} that the project imports; "
            f"type something like '{value}_model'."
        )
    return None


def problems(answers: dict[str, str]) -> list[str]:
    """Every reason the answers cannot be baked, one sentence each."""
    found = []
    for field in ("project_slug", "package_name"):
        problem = name_problem(field, answers[field])
        if problem:
            found.append(problem)
    email = answers["author_email"]
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        found.append(f"author_email {email!r} is not an e-mail address; type something like 'you@example.com'.")
    if not answers["project_name"].strip():
        found.append("project_name is empty; type the product's name, for example 'Churn Predictor'.")
    for clash, sentence in UNSUPPORTED:
        if all(answers[key] == value for key, value in clash.items()):
            found.append(sentence)
    return found


def main() -> int:
    found = problems(json.loads(RENDERED_ANSWERS))
    for problem in found:
        print(f"ERROR: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
