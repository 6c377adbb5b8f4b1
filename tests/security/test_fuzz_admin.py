"""Every operation fuzzed with a key that holds every scope (read, write and admin), on a
database of its own: key management, accounts, curation, watchlists and webhooks are fuzzed
too, not only refused. No case may answer 5xx or step outside the OpenAPI schema. Bounded:
a few examples per operation, so `make test` stays quick; tests/api/test_fuzz.py runs more
with a read+write key."""

from __future__ import annotations

from dropscope.api.app import create_app
from dropscope.services.database import Database
from tests.api.conftest import NOW, make_key, settings_for
from tests.api.test_fuzz import fuzz

EXAMPLES = 12


def test_every_operation_conforms_with_every_scope(loaded: Database) -> None:
    key = make_key(loaded, ("read", "write", "admin")).secret
    app = create_app(settings_for(loaded), database=loaded, clock=lambda: NOW)
    try:
        fuzz(app, key, EXAMPLES)
    finally:
        app.state.dropscope.verifier.close()  # no lifespan runs here: close its connection
