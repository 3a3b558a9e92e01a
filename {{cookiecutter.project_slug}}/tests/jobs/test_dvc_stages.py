"""dvc.yaml: every module of the package that a stage's job imports, directly or not, is in that stage's deps."""

import ast
import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[2]
JOB_COMMAND = re.compile(r"python -m (?P<module>\w+\.jobs\.\w+)")


def stages() -> dict[str, Any]:
    return yaml.safe_load((PROJECT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]


def job_of_each_stage() -> dict[str, str]:
    """Stage name -> the dotted job module its `cmd` runs, for the stages that run one."""
    jobs = {}
    for name, stage in stages().items():
        match = JOB_COMMAND.search(stage["cmd"])
        if match:
            jobs[name] = match["module"]
    return jobs


def module_file(module: str) -> Path | None:
    """The source file of a dotted module under src/, or None when it is not a module of ours."""
    base = PROJECT / "src" / Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(module: str) -> set[str]:
    """The package's modules that `module` imports: absolute or relative, at the top or inside a function."""
    path = module_file(module)
    assert path is not None, f"{module} has no source file under src/"
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            # `from package import name` imports the submodule `name` when there is one, else a name defined in
            # the package's __init__.py, which is then a module the job runs too.
            submodules = {f"{target}.{alias.name}" for alias in node.names if module_file(f"{target}.{alias.name}")}
            found.update(submodules if len(submodules) == len(node.names) else {target, *submodules})
    root = module.split(".")[0]
    return {name for name in found if name.split(".")[0] == root and module_file(name)}


def modules_a_job_runs(job: str) -> set[str]:
    """The job module and every package module it reaches through imports.

    Python also runs the __init__.py of each package on the way (they hold a docstring and the version); they count
    only when an import names something defined in them.
    """
    seen: set[str] = set()
    pending = [job]
    while pending:
        module = pending.pop()
        if module not in seen:
            seen.add(module)
            pending.extend(imported_modules(module))
    return seen


def test_every_stage_runs_a_job_module() -> None:
    assert set(job_of_each_stage()) == set(stages())


@pytest.mark.parametrize(("stage", "job"), job_of_each_stage().items())
def test_every_module_a_job_imports_is_in_its_stage_deps(stage: str, job: str) -> None:
    """A module missing from deps would change the stage's result without `dvc repro` noticing."""
    deps = set(stages()[stage]["deps"])
    files = {module_file(module) for module in modules_a_job_runs(job)}
    needed = {path.relative_to(PROJECT).as_posix() for path in files if path is not None}
    missing = sorted(needed - deps)
    assert not missing, f"dvc.yaml: add {missing} to the deps of stage {stage!r}"
