"""Security tests use the API's fixtures (a loaded database per test, on SQLite and
PostgreSQL)."""

from tests.api.conftest import anyio_backend, loaded  # noqa: F401 (fixtures)
from tests.services.conftest import database  # noqa: F401 (fixture)
