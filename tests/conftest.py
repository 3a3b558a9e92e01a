"""Shared fixtures of the template tests (baking through pytest-cookies, the slow tier's shared projects), the slow
tier's order (heaviest group first) and its timings (each slow test's seconds, printed as it finishes)."""

import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.options import TEMPLATE
from tests.projects import Projects

# The slow tier's xdist groups, heaviest first (seconds of the README's measured `CI=true bash .ci/run`, loaded), so
# that two workers finish together: a worker starts the next group when it is almost done; long ones must not be last.
# A group not listed here (or a slow test without a group) runs after these; the timings below show where it fits.
SLOWEST_FIRST = (
    "checks-classification",  # the project's own lint, type check and tests: 1,600 s
    "lifecycle-classification",  # make pipeline, repro, service, benchmark, DVC experiments and queue: 820 s
    "spark",  # make pipeline, make install-spark, both engines on one batch: 710 s loaded (tests/test_spark.py)
    "checks-regression",  # 640 s
    "lab",  # 260 s
    "team-stack",  # 190 s
    "demo",  # 155 s
    "lifecycle-regression",  # 140 s
    "wheelhouse",  # 110 s
)


@pytest.fixture
def bake(cookies: Any) -> Any:
    """Bake with extra answers and return pytest-cookies' Result (exit_code, exception, project_path)."""

    def _bake(**answers: str) -> Any:
        return cookies.bake(extra_context=answers, template=str(TEMPLATE))

    return _bake


@pytest.fixture(scope="session")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Projects:
    """Baked and installed projects, made once per xdist group (tests/projects.py)."""
    return Projects(tmp_path_factory)


def group_of(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("xdist_group")
    if mark is None:
        return None
    return str(mark.args[0] if mark.args else mark.kwargs.get("name"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Heaviest group first; inside a group, tests keep the order in which they were collected. xdist hands out the
    groups in this order when `--no-loadscope-reorder` is given (the Makefile's test-slow does)."""
    rank = {group: index for index, group in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(group_of(item) or "", len(rank)))


class SlowTimings:
    """Print each slow test's seconds (setup + call + teardown) when it finishes, and all of them, slowest first,
    at the end. Under xdist this runs in the controller, which receives every worker's reports."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.seconds: dict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if "slow" not in report.keywords:
            return
        self.seconds[report.nodeid] += report.duration
        if report.when == "teardown":
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"{self.seconds[report.nodeid]:7.0f} s  {report.nodeid}")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.seconds:
            return
        terminalreporter.section("slow tests, slowest first (seconds: setup + call + teardown)")
        for nodeid, seconds in sorted(self.seconds.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{seconds:7.0f} s  {nodeid}")
        terminalreporter.write_line(f"{sum(self.seconds.values()):7.0f} s  in all (across workers)")


def pytest_configure(config: pytest.Config) -> None:
    # The processes the tests start (bakes' `make install`, `make test`, `make pipeline`, services, the lab) keep
    # Python's bytecode caches, as on a CI runner or a user's machine. A shell that sets PYTHONDONTWRITEBYTECODE (some
    # sandboxes do) would make each of the slow tier's hundreds of fresh interpreters compile mlflow, pandas and
    # scikit-learn again, seconds each, and the lab's timings would not be a user's. This process is not affected.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    # The caches go under build/, never beside the sources: a __pycache__ written into the template's own tree (a test
    # runs its tools/wheelhouse.py) would be baked into every project made after it.
    pycache = Path(config.rootpath) / "build" / "pycache"
    os.environ["PYTHONPYCACHEPREFIX"] = str(pycache)
    sys.pycache_prefix = str(pycache)
    # Only where the results are reported: the controller under xdist, the one process without it.
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(SlowTimings(config), "slow-timings")
