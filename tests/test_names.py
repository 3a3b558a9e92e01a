"""Names people really type become a valid slug and package; the option lists are read from cookiecutter.json."""

import json
import shutil
from pathlib import Path

import pytest
from cookiecutter.generate import generate_context
from cookiecutter.main import cookiecutter
from cookiecutter.prompt import prompt_for_config

from hooks import pre_gen_project
from tests.checks import ruff
from tests.options import OPTIONS, TEMPLATE, template_options

TYPED_NAMES = {
    "Churn Predictor (v2)": "churn_predictor_v2",
    "Café Demand": "cafe_demand",
    "acme.forecast": "acme_forecast",
    "2024 Sales Model": "ml_2024_sales_model",
}

# Product names as teams write them: none may need a hand-typed slug.
COMMON_NAMES = [
    "My ML Product",
    "Churn Predictor",
    "Demand Forecast",
    "Fraud Detection",
    "Credit Risk Model",
    "Lead Scoring",
    "Customer Lifetime Value",
    "House Prices",
    "Price Optimizer",
    "Recommendation Engine",
    "Sales Forecast 2025",
    "Q3 Revenue",
    "Zoë's Model",
    "Ölpreis-Prognose",
    "Inventory",
    "Forecast",
]


def derived_answers(project_name: str) -> dict[str, str]:
    """What cookiecutter renders from cookiecutter.json for this name with --no-input, without writing files."""
    context = generate_context(str(TEMPLATE / "cookiecutter.json"), extra_context={"project_name": project_name})
    return prompt_for_config(context, no_input=True)


@pytest.mark.parametrize(("project_name", "slug"), TYPED_NAMES.items(), ids=list(TYPED_NAMES.values()))
def test_typed_name_bakes_into_a_valid_slug_and_package(tmp_path, project_name, slug):
    project = Path(
        cookiecutter(
            str(TEMPLATE), no_input=True, extra_context={"project_name": project_name}, output_dir=str(tmp_path)
        )
    )
    assert project.name == slug
    assert (project / "src" / slug / "__init__.py").is_file()
    assert f'name = "{slug}"' in (project / "pyproject.toml").read_text(encoding="utf-8")
    # Import order depends on the package's name ("churn_predictor_v2" sorts before the tests' "conftest"): lint it.
    for command in (("check",), ("format", "--check")):
        linted = ruff(project, *command)
        assert linted.returncode == 0, linted.stdout + linted.stderr
    # The hook suggests names by the same rule, so a refused slug points at what the default would have been.
    assert pre_gen_project.derived_name(project_name) == slug


@pytest.mark.parametrize("project_name", COMMON_NAMES)
def test_common_product_name_derives_a_name_the_hook_accepts(project_name):
    answers = derived_answers(project_name)
    assert answers["package_name"] == answers["project_slug"]
    assert pre_gen_project.name_problem("package_name", answers["package_name"]) is None


@pytest.mark.parametrize(("project_name", "module"), [("Email", "email"), ("Random", "random"), ("Test", "test")])
def test_single_word_name_of_a_module_is_refused_with_a_suggestion(project_name, module):
    """A name that would shadow a module is not renamed behind the user's back: the hook says what to type."""
    answers = derived_answers(project_name)
    problem = pre_gen_project.name_problem("package_name", answers["package_name"])
    assert problem is not None
    assert f"would shadow the module '{module}'" in problem
    assert f"'{module}_model'" in problem


def test_options_are_the_choices_cookiecutter_offers():
    """OPTIONS holds exactly the choice variables cookiecutter prompts for, in its order, with the default first."""
    context = generate_context(str(TEMPLATE / "cookiecutter.json"))["cookiecutter"]
    choices = {key: value for key, value in context.items() if isinstance(value, list) and not key.startswith("_")}
    assert choices == OPTIONS
    assert list(OPTIONS) == list(choices)
    assert "project_slug" not in OPTIONS and "_copy_without_render" not in OPTIONS


def test_a_choice_added_to_cookiecutter_json_becomes_an_option(tmp_path):
    shutil.copy(TEMPLATE / "cookiecutter.json", tmp_path / "cookiecutter.json")
    context = json.loads((tmp_path / "cookiecutter.json").read_text(encoding="utf-8"))
    context["serving"] = ["fastapi", "batch"]
    (tmp_path / "cookiecutter.json").write_text(json.dumps(context), encoding="utf-8")
    assert template_options(tmp_path) == {**OPTIONS, "serving": ["fastapi", "batch"]}
