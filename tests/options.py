"""The template's options, the supported combinations to bake, and the files each bake must contain."""

import json
from collections.abc import Iterator
from pathlib import Path

from allpairspy import AllPairs

from hooks import pre_gen_project

TEMPLATE = Path(__file__).resolve().parents[1]
PROJECT_DIR = TEMPLATE / "{{cookiecutter.project_slug}}"


def template_options(template: Path = TEMPLATE) -> dict[str, list[str]]:
    """The choice options, read from cookiecutter.json (its list-valued keys), the one place they are written."""
    context = json.loads((template / "cookiecutter.json").read_text(encoding="utf-8"))
    return {key: value for key, value in context.items() if isinstance(value, list) and not key.startswith("_")}


OPTIONS = template_options()

# The hook's own list: it is plain Python before cookiecutter renders it, so importing it runs no answer.
UNSUPPORTED: list[dict[str, str]] = [clash for clash, _sentence in pre_gen_project.UNSUPPORTED]


def is_supported(combination: dict[str, str]) -> bool:
    return not any(all(combination.get(k) == v for k, v in clash.items()) for clash in UNSUPPORTED)


def _filter(row: list[str]) -> bool:
    return is_supported(dict(zip(OPTIONS, row, strict=False)))


def supported_combinations() -> Iterator[dict[str, str]]:
    """All-pairs coverage of the supported options: every pair of values is baked together at least once."""
    for row in AllPairs(list(OPTIONS.values()), filter_func=_filter):
        yield dict(zip(OPTIONS, row, strict=True))


def combination_id(combination: dict[str, str]) -> str:
    return "-".join(f"{key}:{value}" for key, value in combination.items())


# Files that only the chosen option keeps, by option value; everything else in the template is always baked.
OPTION_FILES: dict[tuple[str, str], list[str]] = {
    ("ci", "github"): [".github/workflows/ci.yml", ".github/dependabot.yml"],
    ("ci", "gitlab"): [".gitlab-ci.yml"],
    ("store", "postgresql"): ["benchmarks/bench_replicas.py"],
    ("tracking", "server"): [
        f"deploy/k8s/{name}.yaml"
        for name in (
            "kustomization",
            "configmap",
            "deployment",
            "service",
            "hpa",
            "secret.template",
            "batches-pvc",
            "score-cronjob",
            "archive-pvc",
            "archive-cronjob",
            "archive-copy-pod",
        )
    ]
    + ["tests/jobs/test_registry_login.py"],
}


def template_files() -> set[str]:
    """Relative paths of every file of the generated-project folder (names are not templated below the root)."""
    return {
        path.relative_to(PROJECT_DIR).as_posix()
        for path in PROJECT_DIR.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def expected_files(combination: dict[str, str], package_name: str) -> set[str]:
    """What a bake with these answers must contain, and nothing more (besides .git)."""
    files = template_files()
    for (option, value), paths in OPTION_FILES.items():
        if combination.get(option, OPTIONS[option][0]) != value:
            files -= set(paths)
    return {path.replace("{{cookiecutter.package_name}}", package_name) for path in files}
