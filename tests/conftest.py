"""Shared fixtures of the template tests: baking through pytest-cookies."""

from typing import Any

import pytest

from tests.options import TEMPLATE


@pytest.fixture
def bake(cookies: Any) -> Any:
    """Bake with extra answers and return pytest-cookies' Result (exit_code, exception, project_path)."""

    def _bake(**answers: str) -> Any:
        return cookies.bake(extra_context=answers, template=str(TEMPLATE))

    return _bake
