"""The generated CI runs the project's own checks and pipeline, whichever provider was chosen."""

import yaml

CHECKS = ("make install", "make lint", "make typecheck", "make test", "make pipeline")


def commands(steps_or_scripts):
    return "\n".join(str(item.get("run", "")) if isinstance(item, dict) else str(item) for item in steps_or_scripts)


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
    assert checkout["with"]["fetch-depth"] == 0
    diff = next(s for s in check["steps"] if "dvc metrics diff" in s.get("run", ""))
    assert diff["if"] == "github.event_name == 'pull_request'"
    assert "dvc params diff" in diff["run"]
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
    header = text.split("\nname:")[0]
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
