"""Prune the files of the options not chosen, start a git repository, and print the next commands."""

import shutil
import subprocess
from pathlib import Path

PROJECT = Path.cwd()
CI = {{ cookiecutter.ci | tojson }}
TRACKING = {{ cookiecutter.tracking | tojson }}
SLUG = {{ cookiecutter.project_slug | tojson }}


def remove(*relative_paths: str) -> None:
    """Delete files or folders of the project, ignoring the ones already absent."""
    for relative in relative_paths:
        path = PROJECT / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def remove_ci_files() -> None:
    """Keep only the workflow of the chosen CI provider."""
    if CI != "github":
        remove(".github")
    if CI != "gitlab":
        remove(".gitlab-ci.yml")


def remove_kubernetes_files() -> None:
    """Kubernetes replicas load the model from a tracking server's registry: only tracking=server keeps them."""
    if TRACKING != "server":
        remove("deploy/k8s")


def git_init() -> None:
    """Start a repository so that DVC and lineage tags work; skipped quietly where git is absent."""
    if shutil.which("git") is None:
        print("git is not on the PATH: run `git init` yourself before `dvc repro`.")
        return
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main"], cwd=PROJECT, check=False)


def main() -> None:
    remove_ci_files()
    remove_kubernetes_files()
    git_init()
    print(f"\nBaked {SLUG}. Next:\n\n    cd {PROJECT.name}\n    make install\n    make pipeline\n")


if __name__ == "__main__":
    main()
