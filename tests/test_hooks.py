"""The pre-generation hook refuses wrong answers with one sentence and leaves nothing behind;
answers with quotes, backslashes, non-ASCII letters or code in them stay data."""

import json
import tomllib
from pathlib import Path

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

from hooks import pre_gen_project
from scripts import locked_imports
from tests.checks import leftover_template_syntax, ruff
from tests.options import OPTIONS, TEMPLATE, UNSUPPORTED


def bake_into(output: Path, **answers: str) -> Path:
    return Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(output)))


def refused(tmp_path: Path, capfd: pytest.CaptureFixture[str], **answers: str) -> str:
    """Bake, expect the hook to refuse, and return what it said; nothing may be left in the output folder."""
    with pytest.raises(FailedHookException):
        bake_into(tmp_path, **answers)
    assert list(tmp_path.iterdir()) == [], "a refused bake left files behind"
    return capfd.readouterr().err


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"project_slug": "My-Product"}, "is not a lowercase Python identifier; type something like 'my_product'"),
        ({"project_slug": "2fast"}, "is not a lowercase Python identifier; type something like 'ml_2fast'"),
        ({"project_slug": "Churn Predictor (v2)"}, "type something like 'churn_predictor_v2'"),
        ({"project_slug": "acme.forecast"}, "type something like 'acme_forecast'"),
        ({"project_slug": "!!!"}, "type something like 'my_ml_product'"),
        ({"project_name": " "}, "project_name is empty"),
        ({"project_name": "Email"}, "package_name 'email' would shadow the module 'email'"),
        ({"package_name": "mlflow"}, "would shadow the module 'mlflow'"),
        ({"package_name": "dvc"}, "would shadow the module 'dvc'"),
        ({"package_name": "json"}, "would shadow the module 'json'"),
        ({"package_name": "test"}, "would shadow the module 'test'"),
        # Dependencies of dependencies: only the lock knows them (scripts/locked_imports.py).
        ({"package_name": "orjson"}, "would shadow the module 'orjson'"),
        ({"package_name": "psutil"}, "would shadow the module 'psutil'"),
        ({"package_name": "anyio"}, "would shadow the module 'anyio'"),
        ({"package_name": "class"}, "is a Python keyword"),
        ({"author_email": "nobody.example.com"}, "author_email 'nobody.example.com' is not an e-mail address"),
        ({"project_name": "Señor Model", "project_slug": "señor_model"}, "type something like 'senor_model'"),
    ],
    ids=[
        "slug-dash-capitals",
        "slug-digit-first",
        "slug-typed-as-a-name",
        "slug-with-a-dot",
        "slug-without-letters",
        "name-empty",
        "name-derives-a-stdlib-module",
        "shadows-mlflow",
        "shadows-dvc",
        "shadows-json",
        "shadows-test",
        "shadows-orjson",
        "shadows-psutil",
        "shadows-anyio",
        "keyword",
        "email-without-at",
        "non-ascii-slug",
    ],
)
def test_bad_answer_stops_the_bake_with_a_sentence(tmp_path, capfd, answers, message):
    err = refused(tmp_path, capfd, **answers)
    assert message in err
    assert err.strip().endswith(".")


def test_the_names_a_package_may_not_take_were_derived_from_this_lock():
    """The hook's list is a literal (a hook stays offline); the digest says which pins it was read from."""
    assert locked_imports.pins_digest() == pre_gen_project.LOCKED_PINS_SHA256, (
        "requirements.lock changed since the hook's list of locked import names was derived: run `make lock` "
        "(or `.venv/bin/python scripts/locked_imports.py`) and commit hooks/pre_gen_project.py with the lock"
    )
    assert {"mlflow", "dvc", "sklearn", "yaml", "orjson", "psutil", "anyio"} <= pre_gen_project.LOCKED_IMPORTS


@pytest.mark.parametrize("clash", UNSUPPORTED, ids=lambda c: "-".join(f"{k}:{v}" for k, v in c.items()))
def test_unsupported_combination_stops_the_bake(tmp_path, capfd, clash):
    err = refused(tmp_path, capfd, **clash)
    assert "choose" in err
    for key, value in clash.items():
        assert f"{key}={value}" in err


@pytest.mark.parametrize("option", OPTIONS)
def test_choice_outside_cookiecutter_json_is_refused_before_anything_is_written(tmp_path, option):
    """cookiecutter checks choices against cookiecutter.json itself, which is why the hook keeps no copy of them."""
    with pytest.raises(ValueError, match=f"choice variable {option}, but the choices are"):
        bake_into(tmp_path, **{option: "bogus"})
    assert list(tmp_path.iterdir()) == []


HOSTILE = {
    "project_name": "O'Brien's \"Quoted\" \\ Back\\slash Zoë",
    "project_slug": "obrien_model",
    "description": 'Predicts "things" with \\n backslashes, \'quotes\' and """triple""" and ünïcödé.',
    "author_name": 'Zoë O\'Connor "the" \\ Ñuñez',
    "author_email": "zoë@exämple.org",
}


def test_hostile_answers_bake_into_valid_files(tmp_path):
    project = bake_into(tmp_path, **HOSTILE)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["description"] == HOSTILE["description"]
    assert pyproject["project"]["authors"] == [{"name": HOSTILE["author_name"], "email": HOSTILE["author_email"]}]
    for path in [*project.rglob("*.yaml"), *project.rglob("*.yml")]:
        yaml.safe_load(path.read_text(encoding="utf-8"))
    assert HOSTILE["project_name"] in (project / "README.md").read_text(encoding="utf-8")
    assert leftover_template_syntax(project) == []
    assert ruff(project, "check").returncode == 0


# Each tries to close the string the hooks render answers into: a plain quote, then a raw triple-quoted string.
BREAKOUTS = ['"); {code}; ("', '\\"""); {code}; (r"""\\']


@pytest.mark.parametrize("breakout", BREAKOUTS, ids=["quote", "triple-quote"])
def test_code_in_an_answer_is_not_executed(tmp_path, breakout):
    marker = tmp_path / "pwned"
    payload = breakout.format(code=f'__import__("pathlib").Path({json.dumps(str(marker))}).touch()')
    out = tmp_path / "out"
    project = bake_into(
        out, description=payload, author_name=payload, project_name=payload, project_slug="safe_product"
    )
    assert not marker.exists(), "an answer was executed as code by a hook"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["description"] == payload
