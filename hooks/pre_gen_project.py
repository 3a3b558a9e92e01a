"""Validate the answers before cookiecutter writes anything, so a wrong answer leaves no folder behind."""

import keyword
import re
import sys

# Answers are rendered with `tojson`: a quote or a backslash in an answer stays data, never Python code.
ANSWERS = {
    "project_name": {{ cookiecutter.project_name | tojson }},
    "project_slug": {{ cookiecutter.project_slug | tojson }},
    "package_name": {{ cookiecutter.package_name | tojson }},
    "author_email": {{ cookiecutter.author_email | tojson }},
    "python_version": {{ cookiecutter.python_version | tojson }},
    "license": {{ cookiecutter.license | tojson }},
    "task": {{ cookiecutter.task | tojson }},
    "tracking": {{ cookiecutter.tracking | tojson }},
    "store": {{ cookiecutter.store | tojson }},
    "dvc_remote": {{ cookiecutter.dvc_remote | tojson }},
    "ci": {{ cookiecutter.ci | tojson }},
}

CHOICES = {
    "python_version": ("3.11", "3.12"),
    "license": ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"),
    "task": ("classification", "regression"),
    "tracking": ("local", "server"),
    "store": ("sqlite", "postgresql"),
    "dvc_remote": ("local", "s3", "none"),
    "ci": ("github", "gitlab", "none"),
}

# Each entry: the answers that clash, and the sentence that says what to choose instead.
UNSUPPORTED = (
    (
        {"tracking": "server", "dvc_remote": "local"},
        "tracking=server with dvc_remote=local would record data versions on a shared server that only your laptop "
        "can restore; choose dvc_remote=s3 (or none) with tracking=server, or keep tracking=local.",
    ),
)

# Names a package must not take: importing it would shadow a dependency the project needs.
DEPENDENCIES = {
    "alembic", "dvc", "evidently", "fastapi", "httpx", "joblib", "mlflow", "mypy", "numpy", "pandas", "prometheus_client",
    "psycopg", "pydantic", "pydantic_settings", "pytest", "ruff", "scipy", "sklearn", "sqlalchemy", "starlette",
    "typer", "uvicorn", "yaml", "test", "tests", "src", "app", "setup",
}
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


def name_problem(field: str, value: str) -> str | None:
    """Return why `value` cannot be the project's slug or package name, or None when it can."""
    suggestion = re.sub(r"[^a-z0-9_]+", "_", value.lower()).strip("_") or "my_ml_product"
    if not suggestion[0].isalpha():
        suggestion = "ml_" + suggestion
    if not IDENTIFIER.fullmatch(value):
        return f"{field} {value!r} is not a lowercase Python identifier; type something like {suggestion!r}."
    if keyword.iskeyword(value):
        return f"{field} {value!r} is a Python keyword; type something like '{value}_model'."
    if value in sys.stdlib_module_names or value in DEPENDENCIES:
        return f"{field} {value!r} would shadow the module {value!r} that the project imports; type something like '{value}_model'."
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
    for field, allowed in CHOICES.items():
        if answers[field] not in allowed:
            found.append(f"{field} {answers[field]!r} is not one of {', '.join(allowed)}; type one of those.")
    for clash, sentence in UNSUPPORTED:
        if all(answers[key] == value for key, value in clash.items()):
            found.append(sentence)
    return found


def main() -> int:
    found = problems(ANSWERS)
    for problem in found:
        print(f"ERROR: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
