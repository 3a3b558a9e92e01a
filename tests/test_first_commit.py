"""Fast tier: a bake is one git commit of exactly the generated files, with or without a git identity."""

import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from tests.options import TEMPLATE
from tests.test_cruft import template_repository

IDENTITY_VARIABLES = ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL")


def git(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=False)


def bake_into(output: Path, **answers: str) -> Path:
    return Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(output)))


def without_git_identity(monkeypatch: pytest.MonkeyPatch, home: Path, global_config: str = "") -> None:
    """A machine whose only git config is global_config: no system config, no identity in the environment."""
    home.mkdir()
    (home / "gitconfig").write_text(global_config, encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in IDENTITY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def assert_one_commit_of_every_file(project: Path) -> None:
    assert git(project, "rev-list", "--count", "HEAD").stdout.strip() == "1"
    assert git(project, "status", "--porcelain").stdout == ""
    tracked = set(git(project, "ls-files").stdout.splitlines())
    baked = {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}
    assert tracked == {p for p in baked if not p.startswith(".git/")}


def test_default_bake_is_one_commit_and_a_clean_tree(tmp_path):
    project = bake_into(tmp_path)
    assert_one_commit_of_every_file(project)
    assert git(project, "branch", "--show-current").stdout.strip() == "main"


def test_without_a_git_identity_the_commit_is_made_as_the_answers_author(tmp_path, monkeypatch, capfd):
    without_git_identity(monkeypatch, tmp_path / "home")
    assert git(tmp_path, "var", "GIT_AUTHOR_IDENT").returncode != 0, "git still finds an identity"
    project = bake_into(tmp_path / "out", author_name="Zoë O'Connor", author_email="zoe@example.org")
    assert_one_commit_of_every_file(project)
    assert git(project, "log", "--format=%an <%ae>|%cn <%ce>").stdout.strip() == (
        "Zoë O'Connor <zoe@example.org>|Zoë O'Connor <zoe@example.org>"
    )
    # The identity was lent to that one commit: the repository's own config names nobody.
    assert git(project, "config", "--local", "user.email").returncode != 0
    assert "git commit --amend --reset-author --no-edit" in capfd.readouterr().out


def test_with_a_git_identity_the_commit_is_the_users_and_nothing_is_said(tmp_path, monkeypatch, capfd):
    without_git_identity(monkeypatch, tmp_path / "home", "[user]\n\tname = Ada\n\temail = ada@example.org\n")
    project = bake_into(tmp_path / "out")
    assert git(project, "log", "--format=%an <%ae>").stdout.strip() == "Ada <ada@example.org>"
    assert "identity" not in capfd.readouterr().out


def test_commit_signing_configured_globally_cannot_stop_or_stall_the_bake(tmp_path, monkeypatch):
    signing = "[user]\n\tname = Ada\n\temail = ada@example.org\n[commit]\n\tgpgsign = true\n[gpg]\n\tprogram = false\n"
    without_git_identity(monkeypatch, tmp_path / "home", signing)
    project = bake_into(tmp_path / "out")
    assert_one_commit_of_every_file(project)


def test_cruft_create_leaves_only_its_own_record_to_commit(tmp_path):
    repo = template_repository(tmp_path)
    out = tmp_path / "out"
    created = subprocess.run(
        [sys.executable, "-m", "cruft", "create", str(repo), "--no-input", "--output-dir", str(out)],
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    # cruft writes .cruft.json after the hook has committed: the user commits it, and lineage ignores untracked files.
    assert git(out / "my_ml_product", "status", "--porcelain").stdout == "?? .cruft.json\n"
