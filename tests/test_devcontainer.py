"""The zero-install fallback: `.devcontainer/devcontainer.json` pins its image, runs and forwards what the README says.

A codespace cannot be started here, so these tests judge the file by what it promises: strict JSON (a dev container
file may hold comments; ours holds none, so every JSON tool reads it), Microsoft's Python image at a version tag for
the project's Python, `make install` on creation as the README's quickstart says, and the README's default ports.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter

from tests.options import OPTIONS, TEMPLATE

# Microsoft's image, tagged <image version>-<python>-<debian>: the image version pins the tools inside it too.
IMAGE = re.compile(r"^mcr\.microsoft\.com/devcontainers/python:(?P<image>\d+\.\d+\.\d+)-(?P<python>3\.\d+)-\w+$")
# A row of the table of ports (README or a docs page): | `API_PORT` | 8000 | ...
PORT_ROW = re.compile(r"^\| `(?P<variable>[A-Z0-9_]+_PORT)` \| (?P<default>\d+) \|", re.MULTILINE)
MAKE_COMMAND = re.compile(r"make [a-z][a-z-]*")
# The ports a learner needs from a codespace: the service and MLflow's UI.
REQUIRED_PORTS = ("API_PORT", "MLFLOW_PORT")
# Properties of an image-based dev container in the specification's schema (containers.dev, devContainer.base.schema),
# which no offline validator ships: a misspelt key would otherwise be ignored in silence by every tool.
SPEC_PROPERTIES = {
    "name", "image", "features", "forwardPorts", "portsAttributes", "otherPortsAttributes", "containerEnv",
    "remoteEnv", "remoteUser", "containerUser", "mounts", "runArgs", "workspaceFolder", "workspaceMount",
    "hostRequirements", "initializeCommand", "onCreateCommand", "updateContentCommand", "postCreateCommand",
    "postStartCommand", "postAttachCommand", "waitFor", "customizations", "shutdownAction", "overrideCommand",
}  # fmt: skip
ON_AUTO_FORWARD = {"notify", "openBrowser", "openBrowserOnce", "openPreview", "silent", "ignore"}


@pytest.fixture(scope="module", params=OPTIONS["python_version"], ids=lambda v: f"python_version:{v}")
def baked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp(f"devcontainer-{request.param}")
    extra = {"python_version": request.param}
    return Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=extra, output_dir=out))


def devcontainer(project: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((project / ".devcontainer/devcontainer.json").read_text(encoding="utf-8"))
    return document


def documentation(project: Path) -> str:
    """The README and every docs page: the quickstart and the table of ports may live in either."""
    pages = [project / "README.md", *sorted((project / "docs").glob("*.md"))]
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)


def test_the_image_is_microsofts_python_image_at_a_version_for_the_projects_python(baked: Path) -> None:
    image = devcontainer(baked)["image"]
    match = IMAGE.match(image)
    assert match, f"{image} is not mcr.microsoft.com/devcontainers/python:<version>-<python>-<os>"
    assert match["python"] == (baked / ".python-version").read_text().strip()
    assert "latest" not in image


def test_the_container_installs_with_the_readmes_command(baked: Path) -> None:
    config = devcontainer(baked)
    assert config["postCreateCommand"] == "make install"
    readme = (baked / "README.md").read_text(encoding="utf-8")
    assert "make install" in readme
    # Every make target the file names (in commands or port labels) is one the project has and documents.
    makefile = (baked / "Makefile").read_text(encoding="utf-8")
    named = set(MAKE_COMMAND.findall(json.dumps(config)))
    assert named >= {"make install", "make serve", "make mlflow-ui"}
    for command in named:
        assert re.search(rf"^{command.removeprefix('make ')}:", makefile, re.MULTILINE), f"no target for {command}"
        assert command in documentation(baked), f"{command} is not in the README or docs/"


def test_the_forwarded_ports_are_the_readmes_defaults_each_with_a_label(baked: Path) -> None:
    config = devcontainer(baked)
    defaults = {row["variable"]: int(row["default"]) for row in PORT_ROW.finditer(documentation(baked))}
    forwarded = config["forwardPorts"]
    assert all(isinstance(port, int) and 0 < port < 65536 for port in forwarded)
    assert set(forwarded) <= set(defaults.values()), f"{forwarded} are not all in the table of ports {defaults}"
    assert {defaults[variable] for variable in REQUIRED_PORTS} <= set(forwarded)
    attributes = config["portsAttributes"]
    assert set(attributes) == {str(port) for port in forwarded}
    for port, attribute in attributes.items():
        variable = next(name for name, default in defaults.items() if str(default) == port)
        assert variable in attribute["label"], f"the label of {port} does not name {variable}"


def test_git_trusts_the_workspace_whoever_owns_it(baked: Path) -> None:
    # A codespace mounts the repository as another user than the one git runs as: git then refuses it ("dubious
    # ownership") and lineage, DVC and the first commit fail. safe.directory is git's own remedy.
    command = devcontainer(baked)["postStartCommand"]
    assert command == "git config --global --add safe.directory ${containerWorkspaceFolder}"


def test_every_property_is_one_the_specification_defines(baked: Path) -> None:
    config = devcontainer(baked)
    assert set(config) <= SPEC_PROPERTIES, f"not in the dev container specification: {set(config) - SPEC_PROPERTIES}"
    assert isinstance(config["hostRequirements"]["cpus"], int) and config["hostRequirements"]["cpus"] >= 1
    assert {attribute["onAutoForward"] for attribute in config["portsAttributes"].values()} <= ON_AUTO_FORWARD
