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
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from dropscope.api.app import create_app
from dropscope.config import Settings
from dropscope.services.database import Database
from tests.api.conftest import DATA, NOW

EXAMPLES = 40
TOKEN = "fuzz-curator-token"  # writes are fuzzed too


def test_every_operation_conforms(shared_loaded: Database) -> None:
    app = create_app(
        Settings(database_url=shared_loaded.url, data_dir=DATA, curator_token=TOKEN),
        database=shared_loaded,
        clock=lambda: NOW,
    )
    schema = schemathesis.openapi.from_asgi("/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers={"authorization": f"Bearer {TOKEN}"},
                excluded_checks=[checks.positive_data_acceptance],
            )

        try:
            run()
        except Exception as exc:
            pytest.fail(f"{operation.label}: {exc}")
