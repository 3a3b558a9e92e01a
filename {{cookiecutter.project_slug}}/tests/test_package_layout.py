"""The package's layout keeps its promises: one name per module across layers, and imports that point inward."""

import ast
import re
from collections import Counter
from pathlib import Path

import {{ cookiecutter.package_name }}

PACKAGE = Path({{ cookiecutter.package_name }}.__file__).parent
# What each layer may import from the package: core is pure, io touches the world, jobs and service orchestrate.
ALLOWED = {
    "core": {"core", "params", "user_errors"},
    "io": {"core", "io", "params", "settings", "store", "user_errors"},
    "store": {"store", "settings", "user_errors"},
}


def modules(folder: str) -> list[Path]:
    return [path for path in (PACKAGE / folder).rglob("*.py") if path.name != "__init__.py"]


def imported_layers(path: Path) -> set[str]:
    """The first package component of each relative import of a module (`from ..core.x import y` -> core)."""
    layers = set()
    package = path.relative_to(PACKAGE).parent.parts
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[: len(package) - node.level + 1])
            parts = [*base, *(node.module.split(".") if node.module else [])]
            if parts:
                layers.add(parts[0])
    return layers


def test_no_two_modules_share_a_name_across_core_service_and_routers() -> None:
    names = Counter(path.name for folder in ("core", "service") for path in modules(folder))
    assert [name for name, count in names.items() if count > 1] == []


def test_no_import_goes_up_a_layer() -> None:
    upward = [
        f"{path.relative_to(PACKAGE)} imports {layer}"
        for folder, allowed in ALLOWED.items()
        for path in modules(folder)
        for layer in imported_layers(path) - allowed
    ]
    assert upward == []


def test_tests_mirror_the_package() -> None:
    """Each test folder is named after a package folder, so a module's tests are found where the module is."""
    tests = Path(__file__).parent

    def folders(root: Path) -> set[str]:
        return {path.name for path in root.iterdir() if path.is_dir() and not path.name.startswith(("_", "."))}

    # monitoring/ tests the loop end to end (service, jobs and core together), so it has no one package folder.
    # core/, io/, jobs/ and store/ have no __init__.py: `io` as a package would shadow the standard library's.
    test_folders = folders(tests) - {"monitoring"}
    assert test_folders <= folders(PACKAGE)
    for folder in test_folders:
        assert folders(tests / folder) <= folders(PACKAGE / folder)


def test_every_module_has_a_test_module_of_its_name_or_a_row_in_tests_readme() -> None:
    """`<layer>/<module>.py` is tested in `tests/<layer>/test_<module>.py`, or tests/README.md says where and why."""
    tests = Path(__file__).parent
    readme = (tests / "README.md").read_text(encoding="utf-8")
    listed = {
        path.rstrip("/")
        for path in re.findall(r"^\| (.+?) \|", readme, re.MULTILINE)
        for path in re.findall(r"`([^`]+)`", path)
    }
    unplaced = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if path.name == "__init__.py" or len(path.read_text(encoding="utf-8").splitlines()) < 25:
            continue
        mirrored = tests / relative.parent / f"test_{path.stem}.py"
        in_readme = any(str(relative) == entry or str(relative).startswith(f"{entry}/") for entry in listed)
        if not mirrored.exists() and not in_readme:
            unplaced.append(str(relative))
    assert unplaced == [], f"add tests/<layer>/test_<module>.py, or a row to tests/README.md, for: {unplaced}"
