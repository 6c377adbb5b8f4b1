"""Storage: SQLAlchemy engine setup (`engine`), the schema (`tables`, created only by the
Alembic `migrations`), and `repositories/`, where all SQL lives."""
