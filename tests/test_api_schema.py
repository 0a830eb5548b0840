"""schemathesis over the whole OpenAPI of the service, in-process (ASGI, no sockets: much faster than over
uvicorn, and the same application object): at least 1,000 generated requests, no server error, and every
response matches the schema it declares (status code, media type, body)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from app.api import create_app
from app.config import Settings
from app.storage import Store
from tests.api_harness import make_tokens

pytestmark = pytest.mark.slow

TOTAL = 1_000
# POST /api/v1/evaluations takes its CSV as a text/csv body: generated strings are sent as UTF-8 text
schemathesis.serializer.alias("text/csv", "text/plain")


def test_generated_requests_meet_the_schema(tmp_path: Path) -> None:
    s = Settings(home=tmp_path / "home", _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(s)
    token = make_tokens(store)["admin"]
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(s, store=store))
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 5
    inputless = {"GET /health", "GET /ready"}       # nothing to vary: hypothesis makes one request for each
    per_operation = math.ceil(TOTAL / (len(operations) - len(inputless)))
    calls: dict[str, int] = {}
    # valid-looking input may still be refused for what it names (404 unknown id, 409 no baseline): excluded
    excluded = [schemathesis.checks.positive_data_acceptance]

    def fuzz(op: schemathesis.APIOperation) -> None:
        @given(case=op.as_strategy())
        @settings(max_examples=per_operation, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, excluded_checks=excluded)
            calls[op.label] = calls.get(op.label, 0) + 1

        run()

    for op in operations:
        fuzz(op)
    store.dispose()
    assert sum(calls.values()) >= TOTAL, calls
