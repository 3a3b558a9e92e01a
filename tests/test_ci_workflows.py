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
