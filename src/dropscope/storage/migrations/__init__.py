"""Alembic migrations: the only way the schema is created (see `storage.engine.migrate`)."""
