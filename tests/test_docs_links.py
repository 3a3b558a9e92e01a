"""Every bake's README and docs/ hold together: the generated project's own link test runs on each combination."""

import importlib.util
from types import ModuleType

import pytest

from tests.options import combination_id

# The answers that change what README.md and docs/ say: every {% if %} branch of the pages is rendered by one of these.
STACKS = [
    {},
    {"task": "regression", "tracking": "server", "store": "postgresql", "dvc_remote": "s3", "ci": "github"},
    {"tracking": "local", "store": "sqlite", "dvc_remote": "s3", "ci": "gitlab"},
    {"task": "regression", "dvc_remote": "none", "ci": "none"},
]


def generated_link_test(project) -> ModuleType:
    """The bake's tests/test_docs.py, imported from its file: it needs only pytest, not the baked package."""
    spec = importlib.util.spec_from_file_location(f"baked_test_docs_{id(project)}", project / "tests" / "test_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("combination", STACKS, ids=lambda stack: combination_id(stack) or "defaults")
def test_generated_docs_links_resolve_and_readme_is_short(bake, combination):
    result = bake(**combination)
    assert result.exit_code == 0, result.exception
    link_test = generated_link_test(result.project_path)
    assert {page.name for page in link_test.PAGES} >= {"README.md", "lab.md", "serving.md", "monitoring.md"}
    for page in link_test.PAGES:
        link_test.test_every_relative_link_and_anchor_resolves(page)
    link_test.test_readme_is_a_short_front_door()
