"""The generated CI runs the project's own checks and pipeline, whichever provider was chosen, and passes audits.

Judged by tools we did not write: zizmor (offline, pedantic persona) audits the workflows and the Dependabot file,
and check-jsonschema validates each file against GitHub's, Dependabot's and GitLab's published schemas. The pedantic
persona adds code smells to the default audits (a job without a name, a permission without a comment, secrets outside
an environment); the auditor persona, meant to accept false positives, is not what a learner's CI should gate on.
"""

import ast
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.checks import tool
from tests.options import OPTIONS, TEMPLATE

CHECKS = ("make install", "make lint", "make typecheck", "make test", "make pipeline")
TEMPLATE_WORKFLOW = TEMPLATE / ".github/workflows/template.yml"
# `uses: owner/repo@<40-hex commit> # v1.2.3`: a commit cannot be moved as a tag can; the comment says which release.
PINNED_USES = re.compile(r"^\s*(- )?uses: (?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40}) # (?P<tag>v\d+(\.\d+)*)$")
ZIZMOR = ["--offline", "--no-config", "--no-ignores", "--persona", "pedantic", "--min-severity", "informational"]
# Lifecycle steps (make targets) that the README must also give as a command without make.
LIFECYCLE = ("install", "repro", "promote", "serve", "simulate", "monitor", "retrain", "test", "lint")
# A row of the README's table of lifecycle commands: | `make repro` | `dvc repro` | what it does |
README_ROW = re.compile(r"^\| `make (?P<target>[\w-]+)` \| (?P<commands>.*?) \| .*\|$", re.MULTILINE)
# What a DVC stage's cmd may not contain: it runs under cmd.exe on Windows, not a POSIX shell.
POSIX_SHELL = re.compile(r"&&|\|\||[|;<>`$*?~]|\b(source|export)\b|^\s*cd\b")
# Names in a test that Windows lacks (or CI on Windows and macOS lacks): such a test must be marked `posix`.
POSIX_ONLY = ("SIGKILL", "send_signal", "os.fork", "/proc/", "CHROMIUM", "fcntl", "resource.", "os.chmod", "getuid")


def commands(steps_or_scripts):
    return "\n".join(str(item.get("run", "")) if isinstance(item, dict) else str(item) for item in steps_or_scripts)


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool(command[0]), *command[1:]], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def github_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ci=github bake for the audits of this module (they only read it)."""
    from cookiecutter.main import cookiecutter

    output = tmp_path_factory.mktemp("github")
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output), extra_context={"ci": "github"}))


def test_github_workflow_runs_the_project_checks(bake):
    result = bake(ci="github")
    assert result.exit_code == 0, result.exception
    workflow = yaml.safe_load((result.project_path / ".github/workflows/ci.yml").read_text())
    # PyYAML reads the bare key `on` as True.
    assert "pull_request" in workflow[True]
    script = "\n".join(commands(job["steps"]) for job in workflow["jobs"].values())
    for check in CHECKS:
        assert check in script
    setup = next(s for job in workflow["jobs"].values() for s in job["steps"] if "setup-python" in s.get("uses", ""))
    assert setup["with"]["python-version-file"] == ".python-version"


def test_gitlab_pipeline_runs_the_project_checks(bake):
    result = bake(ci="gitlab", python_version="3.12")
    assert result.exit_code == 0, result.exception
    pipeline = yaml.safe_load((result.project_path / ".gitlab-ci.yml").read_text())
    assert pipeline["image"] == "python:3.12-slim"
    script = commands(pipeline["before_script"])
    script += "\n".join(
        commands(job["script"]) for job in pipeline.values() if isinstance(job, dict) and "script" in job
    )
    for check in CHECKS:
        assert check in script


def test_no_ci_bakes_no_workflow(bake):
    result = bake(ci="none")
    assert result.exit_code == 0, result.exception
    assert not (result.project_path / ".github").exists()
    assert not (result.project_path / ".gitlab-ci.yml").exists()


def github_workflow(bake):
    """The parsed workflow and its text (PyYAML drops comments, where the secrets are documented)."""
    result = bake(ci="github")
    assert result.exit_code == 0, result.exception
    text = (result.project_path / ".github/workflows/ci.yml").read_text()
    return yaml.safe_load(text), text


def test_github_pull_request_posts_metrics_and_params_diff_against_the_base_branch(bake):
    workflow, _ = github_workflow(bake)
    check = workflow["jobs"]["check"]
    assert "pull_request" in check["if"]
    checkout = next(s for s in check["steps"] if s.get("uses", "").startswith("actions/checkout"))
    # Every branch is fetched by the checkout itself, so the diff needs no token left behind in .git/config.
    assert checkout["with"]["fetch-depth"] == 0
    assert checkout["with"]["persist-credentials"] is False
    diff = next(s for s in check["steps"] if "dvc metrics diff" in s.get("run", ""))
    assert diff["if"] == "github.event_name == 'pull_request'"
    assert "dvc params diff" in diff["run"]
    assert "git fetch" not in diff["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in diff["run"]
    # The base branch reaches the script through the environment, never pasted into it.
    assert "github.base_ref" in diff["env"]["BASE"]
    assert "${{" not in diff["run"]
    steps = [s.get("run", "") for s in check["steps"]]
    assert steps.index(diff["run"]) > next(i for i, run in enumerate(steps) if "make pipeline" in run)


def test_github_schedules_a_monitoring_job_with_documented_secrets(bake):
    workflow, text = github_workflow(bake)
    assert workflow[True]["schedule"][0]["cron"]
    monitor = workflow["jobs"]["monitor"]
    assert "schedule" in monitor["if"]
    assert "schedule" not in workflow["jobs"]["check"]["if"]
    assert "make monitor" in commands(monitor["steps"])
    secrets = {key for key, value in monitor["env"].items() if "secrets." in value}
    assert {"MLFLOW_TRACKING_URI", "DATABASE_URL"} <= secrets
    # The secrets belong to an environment, which can be restricted to the main branch.
    assert monitor["environment"] == "monitoring"
    header = text.split("\nname:")[0]
    assert "Environments > monitoring" in header
    for secret in secrets:
        assert secret in header, f"{secret} is not documented at the top of the workflow"


def test_gitlab_merge_request_diff_and_scheduled_monitoring(bake):
    result = bake(ci="gitlab")
    assert result.exit_code == 0, result.exception
    text = (result.project_path / ".gitlab-ci.yml").read_text()
    pipeline = yaml.safe_load(text)
    diff = commands(pipeline["pipeline"]["script"])
    assert "CI_MERGE_REQUEST_TARGET_BRANCH_NAME" in diff
    assert "dvc metrics diff" in diff
    assert "dvc params diff" in diff
    assert pipeline["pipeline"]["variables"]["GIT_DEPTH"] == 0
    monitor = pipeline["monitor"]
    assert monitor["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    assert "make monitor" in commands(monitor["script"])
    for job in ("check", "pipeline"):
        assert pipeline[job]["rules"] == [{"if": '$CI_PIPELINE_SOURCE != "schedule"'}]
    header = text.split("\nimage:")[0]
    for variable in ("MLFLOW_TRACKING_URI", "DATABASE_URL"):
        assert variable in header


# --- Security audit of the workflows ---------------------------------------------------------------------------------


def workflow_files(github_project: Path) -> dict[str, Path]:
    return {"generated": github_project / ".github/workflows/ci.yml", "template": TEMPLATE_WORKFLOW}


def test_every_action_is_pinned_to_a_release_commit(github_project):
    pins: dict[str, set[str]] = {}
    for name, path in workflow_files(github_project).items():
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if "uses:" in line]
        assert lines, f"{name}: no action used"
        for line in lines:
            match = PINNED_USES.match(line)
            assert match, f"{name}: not pinned to a commit with its version in a comment: {line.strip()}"
            pins.setdefault(match["action"], set()).add(f"{match['sha']} # {match['tag']}")
    # One release of each action across both workflows, so that an update is one decision.
    assert {action: len(versions) for action, versions in pins.items()} == dict.fromkeys(pins, 1)


@pytest.mark.parametrize("which", ["generated", "template"])
def test_workflow_grants_no_token_rights_by_default_and_keeps_no_credentials(github_project, which):
    workflow = yaml.safe_load(workflow_files(github_project)[which].read_text(encoding="utf-8"))
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        assert job["permissions"] == {"contents": "read"}, f"job {name} asks for more than reading the code"
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, f"job {name} leaves its token in .git/config"


def test_generated_github_files_pass_zizmor_with_no_finding(github_project):
    files = [github_project / ".github/workflows/ci.yml", github_project / ".github/dependabot.yml"]
    result = run_tool("zizmor", *ZIZMOR, *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr


def test_template_workflow_passes_zizmor_with_no_finding():
    result = run_tool("zizmor", *ZIZMOR, str(TEMPLATE_WORKFLOW))
    assert result.returncode == 0, result.stdout + result.stderr


def test_github_files_match_the_published_schemas(github_project):
    for schema, path in [
        ("vendor.github-workflows", github_project / ".github/workflows/ci.yml"),
        ("vendor.github-workflows", TEMPLATE_WORKFLOW),
        ("vendor.dependabot", github_project / ".github/dependabot.yml"),
    ]:
        result = run_tool("check-jsonschema", "--builtin-schema", schema, str(path))
        assert result.returncode == 0, f"{path.name}: {result.stdout}{result.stderr}"


@pytest.mark.parametrize("python_version", OPTIONS["python_version"])
def test_gitlab_pipeline_matches_the_published_schema(bake, python_version):
    result = bake(ci="gitlab", python_version=python_version)
    assert result.exit_code == 0, result.exception
    checked = run_tool(
        "check-jsonschema", "--builtin-schema", "vendor.gitlab-ci", str(result.project_path / ".gitlab-ci.yml")
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_dependabot_keeps_the_pinned_actions_current(github_project):
    config = yaml.safe_load((github_project / ".github/dependabot.yml").read_text(encoding="utf-8"))
    actions = next(u for u in config["updates"] if u["package-ecosystem"] == "github-actions")
    assert actions["directory"] == "/"
    assert actions["schedule"]["interval"] == "weekly"


# --- Where learners are: without make, on Linux, macOS and Windows ---------------------------------------------------


def readme_commands(project: Path) -> dict[str, list[str]]:
    """The README's lifecycle table: make target -> the commands that do the same without make."""
    text = (project / "README.md").read_text(encoding="utf-8")
    return {row["target"]: re.findall(r"`([^`]+)`", row["commands"]) for row in README_ROW.finditer(text)}


def makefile_recipes(project: Path, package: str) -> dict[str, list[str]]:
    """Each Makefile target's recipe lines, with the venv's paths and variables spelled as a user types them."""
    recipes: dict[str, list[str]] = {}
    target = None
    for line in (project / "Makefile").read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^(?P<target>[\w-]+):", line):
            target = match["target"]
            recipes[target] = []
        elif line.startswith("\t") and target:
            spelled = line.replace("$(BIN)/", "").replace("$(CLI)", package).replace("$(UV)", "uv")
            recipes[target].append(spelled.strip())
    return recipes


def is_subsequence(words: list[str], of: list[str]) -> bool:
    remaining = iter(of)
    return all(word in remaining for word in words)


def test_readme_gives_every_lifecycle_step_without_make(github_project):
    package = next(path.name for path in (github_project / "src").iterdir() if path.is_dir())
    written, recipes = readme_commands(github_project), makefile_recipes(github_project, package)
    programs = {"uv", "pip", "python", "dvc", "ruff", "mypy", "pytest", "mlflow", package}
    for step in LIFECYCLE:
        assert written.get(step), f"the README's lifecycle table has no command for `make {step}`"
        for command in written[step]:
            words = re.sub(r"\[--[^]]*\]", "", command).split()  # optional flags, e.g. `serve [--port]`
            assert words[0] in programs, f"`make {step}`: `{command}` is not a command of the project's tools"
            # The same program and arguments as the make target runs, so that the two ways cannot drift apart.
            assert any(is_subsequence(words, line.split()) for line in recipes[step]), (
                f"`make {step}` runs {recipes[step]}, not `{command}`"
            )


def test_portable_job_runs_the_readme_commands_on_three_systems(github_project):
    workflow = yaml.safe_load((github_project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    portable = workflow["jobs"]["portable"]
    assert set(portable["strategy"]["matrix"]["os"]) == {"ubuntu-latest", "macos-latest", "windows-latest"}
    assert portable["runs-on"] == "${{ matrix.os }}"
    assert portable["strategy"]["fail-fast"] is False
    script = commands(portable["steps"])
    assert not re.search(r"\bmake\b", script), "the portable job must not need make"
    written = readme_commands(github_project)
    for step in ("install", "lint", "repro"):
        for command in written[step]:
            assert command in script, f"the portable job does not run the README's `{command}`"
    assert 'pytest -m "not posix"' in script


def test_dvc_stages_run_without_a_posix_shell(bake):
    for task in OPTIONS["task"]:
        result = bake(task=task)
        assert result.exit_code == 0, result.exception
        stages = yaml.safe_load((result.project_path / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
        for name, stage in stages.items():
            for cmd in stage["cmd"] if isinstance(stage["cmd"], list) else [stage["cmd"]]:
                assert not POSIX_SHELL.search(cmd), f"stage {name} needs a POSIX shell: {cmd}"


def marked_posix(decorators: list[ast.expr]) -> bool:
    return any("mark.posix" in ast.unparse(decorator) for decorator in decorators)


def test_generated_tests_that_need_posix_are_marked(github_project):
    pyproject = (github_project / "pyproject.toml").read_text(encoding="utf-8")
    assert '"posix: ' in pyproject, "the posix marker is not registered (pytest runs with --strict-markers)"
    conftest = (github_project / "tests/conftest.py").read_text(encoding="utf-8")
    assert 'sys.platform != "win32"' in conftest and 'get_closest_marker("posix")' in conftest
    unmarked = []
    for path in sorted((github_project / "tests").rglob("test_*.py")):
        source = path.read_text(encoding="utf-8")
        module = ast.parse(source)
        module_marks = [
            node.value
            for node in module.body
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets)
        ]
        for node in module.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                needs = [name for name in POSIX_ONLY if name in (ast.get_source_segment(source, node) or "")]
                if needs and not marked_posix([*node.decorator_list, *module_marks]):
                    unmarked.append(f"{path.relative_to(github_project)}::{node.name} uses {needs}")
    assert not unmarked, "mark these @pytest.mark.posix: " + "; ".join(unmarked)
    marked = [path.name for path in (github_project / "tests").rglob("test_*.py") if "mark.posix" in path.read_text()]
    assert {"test_process.py", "test_browser.py"} <= set(marked)
