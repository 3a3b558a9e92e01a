"""schemathesis fuzzes every operation of the real app from its own /openapi.json: no request gets a 5xx.

Operations are walked here rather than with `schema.parametrize()`: the app's schema exists only once its lifespan
has loaded a model, so it comes from a fixture, and schemathesis' lazy fixture schema does not run on this pytest.
"""

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.schemas import OpenApiSchema

from .conftest import fragile_settings, serving_app

# Per operation and mode: enough to reach the number edges (huge, tiny, negative zero) within seconds.
EXAMPLES = 30


@pytest.fixture(scope="module")
def schemas_by_mode() -> dict[str, OpenApiSchema]:
    """One app per serving mode for the whole module: its start is the slow part."""
    return {}


@pytest.fixture
def api_schema(
    fragile_uri: str, tmp_path_factory: pytest.TempPathFactory, serving_mode: str, schemas_by_mode: dict[str, Any]
) -> OpenApiSchema:
    """The schema the service publishes, read from the app in-process (schemathesis runs its lifespan).

    The model is the one with a tiny-scale feature, so that the fuzzer's huge numbers overflow its scaling.
    """
    if serving_mode not in schemas_by_mode:
        database = tmp_path_factory.mktemp("fuzz") / "predictions.db"
        app = serving_app(fragile_settings(fragile_uri, database))
        schemas_by_mode[serving_mode] = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema: OpenApiSchema = schemas_by_mode[serving_mode]
    return schema


# Positive cases fit the schema (the service must answer them), negative ones break it (a 4xx, never a 5xx).
@pytest.mark.parametrize("mode", list(GenerationMode), ids=str)
def test_no_request_the_schema_allows_or_refuses_gets_a_server_error(
    api_schema: OpenApiSchema, mode: GenerationMode
) -> None:
    results = list(api_schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "the published schema has operations schemathesis cannot read"
    assert {"POST /predict", "POST /predict/batch", "POST /feedback"} <= {op.label for op in operations}
    for operation in operations:
        inputs = [operation.path_parameters, operation.query, operation.headers, operation.cookies, operation.body]
        if mode == GenerationMode.NEGATIVE and not any(inputs):
            continue  # nothing a request could break: GET /health takes no input

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        no_server_error()
