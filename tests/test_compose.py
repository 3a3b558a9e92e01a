"""Every variant of the compose stack, judged by tools we did not write: the Compose Specification schema, hadolint.

The compose file depends on three options only (tracking, store, dvc_remote), so every supported combination of
those is baked, not a sample. The same bakes check that every pulled image names a version and that every host port
goes through one variable that the README's table of ports lists.
"""

import itertools
import json
import re
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cookiecutter.main import cookiecutter

from tests.checks import tool
from tests.options import OPTIONS, TEMPLATE, is_supported

DEPLOY_OPTIONS = ("tracking", "store", "dvc_remote")
STACKS = [
    combination
    for values in itertools.product(*(OPTIONS[option] for option in DEPLOY_OPTIONS))
    if is_supported(combination := dict(zip(DEPLOY_OPTIONS, values, strict=True)))
]
# A published port: on loopback only, the host side a variable with its default, e.g. 127.0.0.1:${API_PORT:-8000}:8000.
COMPOSE_PORT = re.compile(r"127\.0\.0\.1:\$\{(?P<variable>[A-Z0-9_]+_PORT):-(?P<default>\d+)\}:\d+")
MAKE_DEFAULT = re.compile(r"^(?P<variable>[A-Z0-9_]+_PORT) \?= (?P<default>\d+)$", re.MULTILINE)
# A row of the README's table of ports: | `API_PORT` | 8000 | ...
README_ROW = re.compile(r"^\| `(?P<variable>[A-Z0-9_]+_PORT)` \| (?P<default>\d+) \|", re.MULTILINE)
# A version tag: digits first (16, 4.47, 2.33.0, 0.1.0), never `latest`, never absent.
VERSION_TAG = re.compile(r"\d+(\.\d+)*([-_][\w.]+)?")


def stack_id(stack: dict[str, str]) -> str:
    return "-".join(f"{key}:{value}" for key, value in stack.items())


@pytest.fixture(scope="module")
def baked(tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict[str, str]], Path]:
    """Bake each stack once for the whole module."""
    projects: dict[str, Path] = {}

    def _baked(stack: dict[str, str]) -> Path:
        key = stack_id(stack)
        if key not in projects:
            out = tmp_path_factory.mktemp(key.replace(":", "_"))
            projects[key] = Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=stack, output_dir=out))
        return projects[key]

    return _baked


def compose_services(project: Path) -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load((project / "deploy/docker-compose.yml").read_text())["services"]
    return services


def images(document: Any) -> list[str]:
    """Every `image:` value anywhere in a parsed YAML document."""
    if isinstance(document, dict):
        found = [value for key, value in document.items() if key == "image" and isinstance(value, str)]
        return found + [image for value in document.values() for image in images(value)]
    if isinstance(document, list):
        return [image for item in document for image in images(item)]
    return []


def split_image(reference: str) -> tuple[str, str]:
    """(name, tag) of an image reference; the tag is what follows the last `:` after the last `/` ('' if none)."""
    name, _, last = reference.rpartition("/")
    repository, _, tag = last.partition(":")
    return (f"{name}/{repository}" if name else repository), tag


@pytest.mark.parametrize("stack", STACKS, ids=stack_id)
def test_compose_file_follows_the_compose_specification(baked: Callable[[dict[str, str]], Path], stack):
    compose_file = baked(stack) / "deploy/docker-compose.yml"
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(compose_file)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("stack", STACKS, ids=stack_id)
def test_every_image_names_a_version_and_none_is_minio(baked: Callable[[dict[str, str]], Path], stack):
    project = baked(stack)
    documents = [yaml.safe_load((project / "deploy/docker-compose.yml").read_text())]
    documents += [yaml.safe_load(path.read_text()) for path in sorted(project.glob("deploy/k8s/*.yaml"))]
    references = [image for document in documents for image in images(document)]
    assert references
    version = tomllib.loads((project / "pyproject.toml").read_text())["project"]["version"]
    for reference in references:
        name, tag = split_image(reference)
        assert VERSION_TAG.fullmatch(tag), f"{reference}: pin a version tag (not latest, not none)"
        # MinIO's images left Docker Hub; its community edition is archived.
        assert "minio" not in name.lower(), reference
        if name.replace("-", "_") == "my_ml_product":
            # The project's own image carries the package's version, one source of truth.
            assert tag == version, reference


@pytest.mark.parametrize("stack", STACKS, ids=stack_id)
def test_every_host_port_is_one_variable_listed_in_the_readme(baked: Callable[[dict[str, str]], Path], stack):
    project = baked(stack)
    published: dict[str, str] = {}
    for name, service in compose_services(project).items():
        for port in service.get("ports", []):
            match = COMPOSE_PORT.fullmatch(str(port))
            assert match, f"service {name} publishes {port!r}: bind 127.0.0.1 and put the host port in a variable"
            published[match["variable"]] = match["default"]
    makefile = (project / "Makefile").read_text()
    make_defaults = {match["variable"]: match["default"] for match in MAKE_DEFAULT.finditer(makefile)}
    recipes = "\n".join(line for line in makefile.splitlines() if line.startswith("\t"))
    for port in re.findall(r"(?:--port |127\.0\.0\.1:)(\S+)", recipes):
        variable = re.fullmatch(r"\$\(([A-Z0-9_]+_PORT)\)", port)
        assert variable and variable[1] in make_defaults, f"the Makefile binds or calls port {port}: use a variable"

    readme = (project / "README.md").read_text()
    assert readme.count("### Ports") == 1
    table = readme.split("### Ports", 1)[1].split("\n#", 1)[0]
    documented = {match["variable"]: match["default"] for match in README_ROW.finditer(table)}
    # One table, no stale rows, and the defaults it states are the ones in force.
    assert documented.keys() == published.keys() | make_defaults.keys()
    for variable, default in [*published.items(), *make_defaults.items()]:
        assert documented[variable] == default, variable
    # deploy/.env.example offers exactly the ports the compose file publishes.
    example = (project / "deploy/.env.example").read_text()
    assert set(re.findall(r"^# ([A-Z0-9_]+_PORT)=", example, re.MULTILINE)) == published.keys()


@pytest.mark.parametrize(
    "stack", [s for s in STACKS if s["dvc_remote"] == "s3" or s["tracking"] == "server"], ids=stack_id
)
def test_object_store_keys_come_from_deploy_env_into_valid_json(baked: Callable[[dict[str, str]], Path], stack):
    project = baked(stack)
    compose = yaml.safe_load((project / "deploy/docker-compose.yml").read_text())
    content = compose["configs"]["s3-identities"]["content"]
    values = {"S3_ACCESS_KEY_ID": "a1b2c3", "S3_SECRET_ACCESS_KEY": "d4e5f6"}
    # Compose's interpolation of `${VAR:?message}`, with the values a filled deploy/.env gives.
    rendered = re.sub(r"\$\{([A-Z0-9_]+):\?[^}]*\}", lambda match: values[match[1]], content)
    identities = json.loads(rendered)["identities"]
    assert identities[0]["credentials"] == [{"accessKey": "a1b2c3", "secretKey": "d4e5f6"}]
    services = compose["services"]
    assert services["s3"]["configs"] == [{"source": "s3-identities", "target": "/etc/seaweedfs/s3.json"}]
    assert "-s3.config=/etc/seaweedfs/s3.json" in services["s3"]["command"]
    # The bucket job signs with the same keys.
    job = services["buckets"]["environment"]
    assert job["AWS_ACCESS_KEY_ID"].startswith("${S3_ACCESS_KEY_ID:?")
    assert job["AWS_SECRET_ACCESS_KEY"].startswith("${S3_SECRET_ACCESS_KEY:?")


@pytest.mark.parametrize("python_version", OPTIONS["python_version"])
def test_dockerfile_passes_hadolint(tmp_path: Path, python_version: str):
    project = Path(
        cookiecutter(
            str(TEMPLATE), no_input=True, extra_context={"python_version": python_version}, output_dir=tmp_path
        )
    )
    result = subprocess.run([tool("hadolint"), "Dockerfile"], cwd=project, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
