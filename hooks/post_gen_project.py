"""Prune the files of the options not chosen, commit the project to a new git repository, and print the next steps."""

import json
import shutil
import subprocess
from pathlib import Path

# cookiecutter renders every answer into this raw string as JSON, so a quote, a backslash or code in an answer stays
# data. The file is plain Python before rendering too, so ruff can lint it.
RENDERED_ANSWERS = r"""{{ cookiecutter | tojson }}"""
PROJECT = Path.cwd()
COMMIT_MESSAGE = "Project generated from the MLOps cookiecutter template"


def remove(*relative_paths: str) -> None:
    """Delete files or folders of the project, ignoring the ones already absent."""
    for relative in relative_paths:
        path = PROJECT / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def remove_ci_files(ci: str) -> None:
    """Keep only the workflow of the chosen CI provider."""
    if ci != "github":
        remove(".github")
    if ci != "gitlab":
        remove(".gitlab-ci.yml")


def remove_tracking_server_files(tracking: str) -> None:
    """Kubernetes replicas load the model from a tracking server's registry, and only that server has a login
    (the test starts `mlflow server --app-name basic-auth`, whose Flask-WTF only a server bake installs):
    only tracking=server keeps them."""
    if tracking != "server":
        remove("deploy/k8s", "tests/jobs/test_registry_login.py")


def remove_postgresql_files(store: str) -> None:
    """The replicas benchmark measures a PostgreSQL prediction log: only store=postgresql keeps it (and its driver)."""
    if store != "postgresql":
        remove("benchmarks/bench_replicas.py")


def git(*args: str) -> subprocess.CompletedProcess[str]:
    # stdin closed and signing off: a bake must never wait for a passphrase or an editor.
    return subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=PROJECT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def has_git_identity() -> bool:
    """Whether git can name the author of a commit here (from its config or GIT_AUTHOR_*/GIT_COMMITTER_*)."""
    return all(git("var", ident).returncode == 0 for ident in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"))


def git_commit_everything(author_name: str, author_email: str) -> list[str]:
    """Start a repository and commit every generated file, so that the first trained model records a commit.

    Without a git identity the commit is made as the author of the answers, set for this one commit only.
    Returns the sentences to print after the next steps.
    """
    if shutil.which("git") is None:
        return ["git is not on the PATH: run `git init`, then commit, before `make pipeline`."]
    if git("init", "--quiet", "--initial-branch=main").returncode != 0:
        return ["`git init` failed here: start a repository and commit before `make pipeline`."]
    identity: list[str] = []
    notes: list[str] = []
    if not has_git_identity():
        identity = ["-c", f"user.name={author_name}", "-c", f"user.email={author_email}"]
        notes.append(
            f"git has no user identity here, so the first commit is authored as {author_name} <{author_email}> "
            "(your answers); after `git config --global user.name/user.email`, "
            "`git commit --amend --reset-author --no-edit` makes it yours."
        )
    git("add", "--all")
    # --no-verify: a global hooks path must not run someone's pre-commit checks on a project not yet installed.
    committed = git(*identity, "commit", "--quiet", "--no-verify", "-m", COMMIT_MESSAGE)
    if committed.returncode != 0:
        reason = (committed.stderr.strip().splitlines() or ["git gave no reason"])[-1]
        notes = [f"The first commit failed ({reason}): commit before `make pipeline`."]
    return notes


def main() -> None:
    answers = json.loads(RENDERED_ANSWERS)
    remove_ci_files(answers["ci"])
    remove_tracking_server_files(answers["tracking"])
    remove_postgresql_files(answers["store"])
    notes = git_commit_everything(answers["author_name"], answers["author_email"])
    print(f"\nBaked {answers['project_slug']}. Next:\n\n    cd {PROJECT.name}\n    make install\n    make pipeline\n")
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
