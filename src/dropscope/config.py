"""Settings, read from the environment (prefix DROPSCOPE_) once, at an entry point.

Never a module-level singleton: an entry point calls `Settings()` and passes it down.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_database_url() -> str:
    return f"sqlite:///{Path(user_data_dir('dropscope')) / 'dropscope.db'}"


def _default_data_dir() -> Path:
    """The curated data shipped with the repository (`data/` at its root)."""
    return Path(__file__).resolve().parents[2] / "data"


class Settings(BaseSettings):
    """Runtime settings. Every field can be set as DROPSCOPE_<NAME> in the environment."""

    model_config = SettingsConfigDict(env_prefix="DROPSCOPE_", extra="ignore")

    database_url: str = Field(
        default_factory=_default_database_url,
        description="SQLAlchemy URL: sqlite:///path.db (default, under the user data dir) "
        "or postgresql+psycopg://user@host/db",
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir, description="Folder of curated research data files"
    )
    solid_fundamentals: float = Field(
        default=75.0, ge=0, le=100, description="Fundamentals score that counts as 'solid'"
    )
    min_tech: float = Field(
        default=80.0, ge=0, le=100, description="Tech score that qualifies a project"
    )
    sql_echo: bool = Field(default=False, description="Log every SQL statement (debugging)")
    api_cache_recheck_seconds: float = Field(
        default=0.5,
        ge=0,
        le=60,
        description="How often each API worker checks whether the data changed",
    )
    curator_token: SecretStr | None = Field(
        default=None,
        description="Bearer token that allows the API's curation writes; unset: writes are off",
    )
