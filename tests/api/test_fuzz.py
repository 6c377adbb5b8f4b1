"""Schemathesis over the whole OpenAPI description: no 5xx, and every response (status
code, content type, body, headers) conforms to the schema the API publishes.

Operations are driven with Hypothesis directly (schemathesis's pytest plugin does not load
under this pytest), one test per engine, every operation in the spec. Every check runs but
"schema-valid data is accepted": an opaque cursor or a slug of the right shape can still
rightly be refused (400, 404), and the API documents those answers.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from dropscope.api.app import create_app
from dropscope.services.database import Database
from tests.api.conftest import NOW, make_key, settings_for

EXAMPLES = 40


def test_every_operation_conforms(shared_loaded: Database) -> None:
    """With a read+write key (writes are fuzzed too; key management answers 403)."""
    key = make_key(shared_loaded, ("read", "write")).secret
    app = create_app(settings_for(shared_loaded), database=shared_loaded, clock=lambda: NOW)
    try:
        fuzz(app, key)
    finally:
        app.state.dropscope.verifier.close()  # no lifespan runs here: close its connection


def fuzz(app: FastAPI, key: str, examples: int = EXAMPLES) -> None:
    """Every operation of the app's OpenAPI schema, `examples` cases each, with `key`; fails
    on a 5xx or an answer that does not conform to the schema."""
    schema = schemathesis.openapi.from_asgi("/v1/openapi.json", app)

    @schema.auth()
    class _Key:
        """The key as schemathesis's own auth, so its auth checks (no key, a bad key → 401
        or 403) can take it off and put it back."""

        def get(self, case: schemathesis.Case, ctx: object) -> str:
            return key

        def set(self, case: schemathesis.Case, data: str, ctx: object) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(excluded_checks=[checks.positive_data_acceptance])

        try:
            run()
        except Exception as exc:
            pytest.fail(f"{operation.label}: {exc}")
