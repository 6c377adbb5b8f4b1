"""Alembic environment: runs the migrations on the connection `migrate()` hands over.

Run from the `alembic` command (see `alembic.ini` here), it connects to `-x url=...` itself;
with `--sql` it prints the SQL instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from dropscope.storage.engine import create_engine_for
from dropscope.storage.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = url or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("name the database: alembic -x url=sqlite:///path/to/file.db ...")
    return url


def _main() -> None:
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
    elif context.is_offline_mode():
        context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        engine = create_engine_for(_url())
        try:
            with engine.begin() as connection:
                _run(connection)
        finally:
            engine.dispose()


_main()
