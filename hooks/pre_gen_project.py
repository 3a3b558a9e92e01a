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

# Names a package must not take: importing it would shadow a dependency the project needs. They are the top-level
# import names of every package of the generated requirements.lock, read from the wheels by scripts/locked_imports.py
# (run by `make lock`); tests/test_hooks.py fails when the lock has changed since.
# BEGIN locked imports: written by scripts/locked_imports.py (make lock); do not edit by hand.
# fmt: off
LOCKED_PINS_SHA256 = "36337df4141a17e975215b0e5ad6bd01f8f5a3c0357d3633273dea94a37ef24d"
LOCKED_IMPORTS = {
    "PIL", "_cffi_backend", "_distutils_hack", "_hypothesis_ftz_detector", "_hypothesis_globals",
    "_hypothesis_pytestplugin", "_plotly_future_", "_plotly_utils", "_pytest", "_yaml", "adodbapi", "aiobotocore",
    "aiohappyeyeballs", "aiohttp", "aiohttp_retry", "aioitertools", "aiosignal", "alembic", "amqp", "annotated_doc",
    "annotated_types", "antlr4", "anyio", "appdirs", "ast_serialize", "asyncssh", "attr", "attrs", "billiard",
    "blinker", "boto3", "botocore", "cachetools", "celery", "certifi", "cffi", "cfgv", "charset_normalizer", "click",
    "click_didyoumean", "click_plugins", "click_repl", "cloudpickle", "colorama", "configobj", "contourpy",
    "cryptography", "cycler", "databricks", "dateutil", "defusedxml", "deprecation", "dictdiffer", "diskcache",
    "distlib", "distro", "docker", "dotenv", "dpath", "dulwich", "dvc", "dvc_data", "dvc_http", "dvc_objects",
    "dvc_render", "dvc_s3", "dvc_studio_client", "dvc_task", "dynaconf", "entrypoints", "evidently", "faker",
    "fastapi", "fastapi_offline", "filelock", "flask", "flask_cors", "flask_wtf", "flatten_dict", "flufl", "fontTools",
    "fonttools", "formulaic", "frozenlist", "fsspec", "funcy", "git", "gitdb", "google", "grandalf", "graphene",
    "graphql", "graphql_relay", "gto", "gunicorn", "h11", "harfile", "httpcore", "httpcore2", "httptools", "httpx",
    "httpx2", "huey", "hydra", "hypothesis", "hypothesis_graphql", "identify", "idna", "importlib_metadata",
    "iniconfig", "interface_meta", "isapi", "iterative_telemetry", "itsdangerous", "jinja2", "jmespath", "joblib",
    "jsonschema_rs", "jupyterlab_plotly", "kiwisolver", "kombu", "librt", "litestar", "litestar_htmx", "mako",
    "markdown_it", "markupsafe", "matplotlib", "mdurl", "mlflow", "mpl_toolkits", "msgspec", "multidict", "multipart",
    "mypy", "mypy_extensions", "mypyc", "narwhals", "networkx", "nltk", "nodeenv", "numpy", "omegaconf",
    "opentelemetry", "orjson", "packaging", "pandas", "pathspec", "patsy", "pil", "platformdirs", "plotly", "pluggy",
    "polyfactory", "pre_commit", "prettytable", "prometheus_client", "prometheus_fastapi_instrumentator",
    "prompt_toolkit", "propcache", "psutil", "psycopg", "psycopg_binary", "public", "py", "py4j", "pyarrow", "pyasn1",
    "pyasn1_modules", "pycparser", "pydantic", "pydantic_core", "pydantic_settings", "pydevd_plugins", "pydot",
    "pygit2", "pygments", "pygtrie", "pylab", "pyparsing", "pyrate_limiter", "pyspark", "pytest", "python_discovery",
    "pythoncom", "pythonwin", "regex", "requests", "rich", "rich_click", "ruamel", "ruff", "s3fs", "s3transfer",
    "schemathesis", "scipy", "scmrepo", "semver", "setuptools", "shellingham", "shortuuid", "shtab", "six", "sklearn",
    "skops", "smmap", "sniffio", "sortedcontainers", "sqlalchemy", "sqlparse", "sqltrie", "starlette", "statsmodels",
    "tabulate", "tenacity", "threadpoolctl", "tomlkit", "tqdm", "truststore", "typer", "typing_extensions",
    "typing_inspect", "typing_inspection", "tzdata", "tzlocal", "ujson", "urllib3", "uuid6", "uvicorn", "uvloop",
    "validate", "vine", "virtualenv", "voluptuous", "waitress", "watchdog", "watchfiles", "wcwidth", "websockets",
    "werkzeug", "win32", "win32com", "win32comext", "wrapt", "wtforms", "yaml", "yarl", "zc", "zipp",
}
# fmt: on
# END locked imports
# Not dependencies, but folder and entry-point names that an import of the package would collide with.
PROJECT_NAMES = {"test", "tests", "src", "app", "setup"}
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
    if value in sys.stdlib_module_names or value in LOCKED_IMPORTS | PROJECT_NAMES:
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
