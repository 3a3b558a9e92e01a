"""The template's options, the supported combinations to bake, and the files each bake must contain."""

from collections.abc import Iterator
from pathlib import Path

from allpairspy import AllPairs

TEMPLATE = Path(__file__).resolve().parents[1]
PROJECT_DIR = TEMPLATE / "{{cookiecutter.project_slug}}"

OPTIONS: dict[str, list[str]] = {
    "task": ["classification", "regression"],
    "tracking": ["local", "server"],
    "store": ["sqlite", "postgresql"],
    "dvc_remote": ["local", "s3", "none"],
    "ci": ["github", "gitlab", "none"],
    "python_version": ["3.11", "3.12"],
    "license": ["MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"],
}

# Mirrors hooks/pre_gen_project.py: these must stop the bake.
UNSUPPORTED: list[dict[str, str]] = [{"tracking": "server", "dvc_remote": "local"}]


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
    ("tracking", "server"): [
        f"deploy/k8s/{name}.yaml"
        for name in ("kustomization", "configmap", "deployment", "service", "hpa", "secret.template")
    ],
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
