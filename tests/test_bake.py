"""Fast tier: bake every supported combination (all pairs of options) and check what comes out."""

import tomllib

import pytest

from tests.checks import leftover_template_syntax, parse_config_files, ruff, template_history
from tests.options import combination_id, expected_files, supported_combinations

COMBINATIONS = list(supported_combinations())


@pytest.mark.parametrize("combination", COMBINATIONS, ids=combination_id)
def test_combination_bakes_clean(bake, combination):
    result = bake(**combination)
    assert result.exit_code == 0, result.exception
    project = result.project_path

    assert leftover_template_syntax(project) == []
    assert template_history(project) == []

    baked = {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}
    baked = {p for p in baked if not p.startswith(".git/")}
    assert baked == expected_files(combination, "my_ml_product")

    parsed = parse_config_files(project)
    pyproject = parsed["pyproject.toml"]
    assert pyproject["project"]["requires-python"] == f">={combination['python_version']}"
    assert parsed["params.yaml"]["task"] == combination["task"]

    check = ruff(project, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = ruff(project, "format", "--check")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_default_bake_is_a_git_repository_with_dvc_initialised(bake):
    result = bake()
    assert result.exit_code == 0, result.exception
    project = result.project_path
    assert (project / ".git").is_dir()
    assert (project / ".dvc" / "config").is_file()
    assert "analytics = false" in (project / ".dvc" / "config").read_text()


def test_every_option_value_is_baked_at_least_once():
    from tests.options import OPTIONS

    for option, values in OPTIONS.items():
        assert {c[option] for c in COMBINATIONS} == set(values), option


@pytest.mark.parametrize(
    ("answers", "present", "absent"),
    [
        ({"store": "postgresql"}, ["psycopg[binary]"], []),
        ({"store": "sqlite"}, [], ["psycopg[binary]"]),
        ({"dvc_remote": "s3", "tracking": "local"}, ["dvc-s3"], []),
        ({"dvc_remote": "none"}, [], ["dvc-s3"]),
    ],
    ids=["store:postgresql", "store:sqlite", "dvc_remote:s3", "dvc_remote:none"],
)
def test_dependencies_follow_the_options(bake, answers, present, absent):
    result = bake(**answers)
    assert result.exit_code == 0, result.exception
    deps = tomllib.loads((result.project_path / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split("<")[0] for d in deps}
    for name in present:
        assert name in names
    for name in absent:
        assert name not in names


@pytest.mark.parametrize(
    ("dvc_remote", "url"),
    [("local", "../../my_ml_product-dvc-storage"), ("s3", "s3://my-ml-product-dvc/data"), ("none", None)],
    ids=["dvc_remote:local", "dvc_remote:s3", "dvc_remote:none"],
)
def test_dvc_remote_follows_the_option(bake, dvc_remote, url):
    result = bake(dvc_remote=dvc_remote, tracking="local")
    assert result.exit_code == 0, result.exception
    config = parse_config_files(result.project_path)[".dvc/config"]
    urls = [config[s]["url"] for s in config.sections() if s.startswith("'remote")]
    assert urls == ([url] if url else [])
    if url:
        assert "remote" in config["core"]


def test_every_dependency_is_pinned_in_the_lock(bake):
    """A project baked today installs the same versions next month: each dependency has an exact pin."""
    result = bake(store="postgresql", dvc_remote="s3", tracking="server")
    assert result.exit_code == 0, result.exception
    project = result.project_path
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    wanted = pyproject["project"]["dependencies"] + pyproject["project"]["optional-dependencies"]["dev"]
    pinned = {
        line.split("==")[0].lower()
        for line in (project / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    for requirement in wanted:
        name = requirement.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower()
        assert name in pinned, f"{name} is not pinned in requirements.lock: run `make lock`"
