"""Settings, read from the environment (prefix DROPSCOPE_) once, at an entry point.

Never a module-level singleton: an entry point calls `Settings()` and passes it down.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dropscope.domain.access import DEFAULT_PLANS, Plan


def _default_database_url() -> str:
    return f"sqlite:///{Path(user_data_dir('dropscope')) / 'dropscope.db'}"


def _default_pepper_file() -> Path:
    return Path(user_data_dir("dropscope")) / "key-pepper.json"


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
    key_pepper: SecretStr | None = Field(
        default=None,
        description="Server secret the API keys are hashed with (HMAC-SHA256). Unset: one is "
        "generated on first use and kept in `key_pepper_file` (mode 0600). Set it (the same "
        "value on every host) when several machines share one database",
    )
    key_pepper_version: int = Field(
        default=1, ge=1, description="Version of `key_pepper`, stored with each key's hash"
    )
    key_old_peppers: dict[int, SecretStr] = Field(
        default_factory=dict,
        description='Earlier peppers by version, JSON ({"1": "..."}): keys hashed with them '
        "keep working until rolled",
    )
    key_pepper_file: Path = Field(
        default_factory=_default_pepper_file,
        description="Where a generated pepper is kept when DROPSCOPE_KEY_PEPPER is unset",
    )
    plans: tuple[Plan, ...] = Field(
        default=DEFAULT_PLANS,
        min_length=1,
        description='Plans as JSON: [{"name": "free", "per_minute": 60, "per_month": 10000}, '
        "...]; the first is the fallback for a key whose plan is no longer listed",
    )
    signup: Literal["closed", "open"] = Field(
        default="closed",
        description="open: POST /v1/accounts creates an account with a free-plan read key",
    )
    signup_per_ip_per_hour: int = Field(
        default=3, ge=1, description="Sign-ups allowed per client network (/24, /56) per hour"
    )
    signup_per_hour: int = Field(
        default=100, ge=1, description="Sign-ups allowed per hour in total (mass sign-up cap)"
    )
    max_keys_per_account: int = Field(
        default=20, ge=1, description="Usable keys a non-operator account may hold"
    )
    idempotency_retention_hours: float = Field(
        default=24.0,
        gt=0,
        le=24 * 365,
        description="How long the response to a write sent with an Idempotency-Key is kept for "
        "replay; older ones are forgotten (at start and hourly), and a retry then runs again",
    )
    usage_flush_seconds: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="How often each API worker writes its batched key usage and auth events",
    )

    @field_validator("plans")
    @classmethod
    def _plans_are_sane(cls, plans: tuple[Plan, ...]) -> tuple[Plan, ...]:
        names = [p.name for p in plans]
        if len(set(names)) != len(names):
            raise ValueError(f"plan names must be unique: {names}")
        for p in plans:
            if not p.name or p.per_minute < 1 or p.per_month < 1:
                raise ValueError(f"plan {p.name!r} needs a name and positive limits")
        return plans

    redis_url: str | None = Field(
        default=None,
        description="Redis URL (redis://host:6379/0) for rate-limit counters shared by every "
        "worker; unset: counters live in the one worker process (`serve --workers 1` only)",
    )
    redis_prefix: str = Field(
        default="dropscope",
        min_length=1,
        description="Prefix of every Redis key dropscope writes (<prefix>:rl:..., "
        "<prefix>:keys_version)",
    )
    ratelimit_lease_seconds: float = Field(
        default=5.0,
        ge=0,
        le=10,
        description="With Redis: the longest a worker may hold permits of a busy key, admitting "
        "its requests without a round trip (a lease lasts about 64 of the key's requests, at "
        "least 1 s; unused permits go back; no 60-s window ever admits more than the quota). "
        "0: one Redis call per request. Off on PostgreSQL, where the keys cache reads its "
        "freshness from each call",
    )

    # --- The HTTP server (`dropscope serve`; api/server.py; docs/api.md, Limits) ----------
    http_max_connections: int = Field(
        default=1000,
        ge=1,
        description="Connections one worker holds open at once; the next is answered 503 and "
        "closed before anything is read (keep it under the process's open-files limit)",
    )
    http_keep_alive_seconds: int = Field(
        default=5, ge=1, le=300, description="How long an idle keep-alive connection stays open"
    )
    http_header_timeout: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds a client has to send a request's line and headers, counted from "
        "the connection (or the request's first byte); then the connection is closed (408)",
    )
    http_body_timeout: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds a client has to send a request's body once its headers are in",
    )
    http_max_header_bytes: int = Field(
        default=65_536,
        ge=1024,
        le=16 * 1024 * 1024,
        description="Largest request line and headers together; larger ones are answered 431 "
        "and the connection closed",
    )
    http_max_body_bytes: int = Field(
        default=1_048_576,
        ge=0,
        description="Largest request body (/v1, /mcp, the dashboard); larger ones are answered "
        "413 before they are read or parsed",
    )
    forwarded_allow_ips: str = Field(
        default="",
        description="Comma-separated addresses or networks of the reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed ('*': any peer; empty: none, "
        "the client address is the connection's)",
    )

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        items = [item.strip() for item in value.split(",") if item.strip()]
        if items == ["*"]:
            return "*"
        proxies = []
        for item in items:  # as uvicorn reads them: an address, or a network without host bits
            try:
                if "/" in item:
                    proxies.append(str(ipaddress.ip_network(item, strict=False)))
                else:
                    proxies.append(str(ipaddress.ip_address(item)))
            except ValueError:
                raise ValueError(
                    f"forwarded_allow_ips: {item!r} is not an address or network"
                ) from None
        return ",".join(proxies)

    # --- Ingestion from public sources (`dropscope ingest`, docs/data-sources.md) ---------
    defillama_url: str = Field(
        default="https://api.llama.fi", description="DefiLlama API base (protocols, raises)"
    )
    defillama_airdrops_url: str = Field(
        default="https://airdrops.llama.fi", description="DefiLlama airdrop config base"
    )
    coingecko_url: str = Field(
        default="https://api.coingecko.com/api/v3", description="CoinGecko API base"
    )
    coingecko_api_key: SecretStr | None = Field(
        default=None, description="CoinGecko demo key (sent as x-cg-demo-api-key)"
    )
    github_url: str = Field(default="https://api.github.com", description="GitHub API base")
    github_token: SecretStr | None = Field(
        default=None, description="GitHub token (60 requests an hour without, 5,000 with)"
    )
    ingest_timeout: float = Field(
        default=20.0, gt=0, le=600, description="Seconds to wait for one source response"
    )
    ingest_max_retries: int = Field(
        default=3, ge=0, le=10, description="Retries on 5xx, 429 and connection errors"
    )
    ingest_retry_after_cap: float = Field(
        default=120.0,
        ge=0,
        description="Longest Retry-After honoured, in seconds; longer ends that source's run",
    )
    ingest_budgets: dict[str, int] = Field(
        default_factory=lambda: {
            "defillama-protocols": 5,
            "defillama-raises": 60,
            "defillama-airdrops": 5,
            "coingecko": 30,
            "github": 55,
        },
        description='Requests each source may make per run, JSON ({"github": 55, ...})',
    )

    # --- The research assistant (`dropscope ask`, POST /v1/ask, docs/assistant.md) ---------
    anthropic_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("ANTHROPIC_API_KEY", "DROPSCOPE_ANTHROPIC_API_KEY"),
        description="Anthropic API key (ANTHROPIC_API_KEY): set, answers are written by Claude; "
        "unset, by the offline extractive generator",
    )
    assistant_model: str = Field(
        default="claude-sonnet-5-5", min_length=1, description="Claude model the assistant uses"
    )
    assistant_generator: Literal["auto", "extractive", "claude"] = Field(
        default="auto",
        description="auto: Claude when ANTHROPIC_API_KEY is set, else extractive",
    )
    assistant_dense: bool = Field(
        default=True,
        description="Use the packaged MiniLM model for dense retrieval when it is installed",
    )
    assistant_cache_dir: Path | None = Field(
        default_factory=lambda: Path(user_data_dir("dropscope")) / "assistant-cache",
        description="Where chunk embeddings are kept between runs (keyed by content hash); "
        "the vectors are rebuilt (about 20 s) when it is missing or not writable",
    )
    public_ask_per_address_per_hour: int = Field(
        default=10,
        ge=0,
        description="The public Ask page (/ask, no key): answers the paid generator (Claude) "
        "may write per client address (IPv4, or IPv6 /64) per clock hour; past it, answered "
        "offline. POST /v1/ask is limited by the key's plan instead",
    )
    public_ask_llm_budget_per_day: int = Field(
        default=200,
        ge=0,
        description="The public Ask page: answers the paid generator may write per UTC day in "
        "all (per process; shared by every worker with DROPSCOPE_REDIS_URL); then offline",
    )
    assistant_warm_on_start: bool = Field(
        default=False,
        description="Build the assistant's index in the background when an API worker starts "
        "(`dropscope serve` turns it on), so the first question does not wait for it",
    )

    # --- Watchlists, events and webhooks (issue 8; docs/webhooks.md) ---------------------
    webhook_allow_http: bool = Field(
        default=False, description="Accept http:// webhook URLs (https only when false)"
    )
    webhook_allowed_networks: tuple[str, ...] = Field(
        default=(),
        description="Networks webhooks may reach although the SSRF policy forbids them, JSON "
        '(["127.0.0.0/8"] for a receiver on this machine); empty: public addresses only',
    )
    webhook_timeout: float = Field(
        default=10.0, gt=0, le=60, description="Seconds one delivery may take in all"
    )
    webhook_max_response_bytes: int = Field(
        default=16_384, ge=0, description="Most response bytes read (and kept) per delivery"
    )
    webhook_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long a dispatcher holds a claimed delivery; one that dies mid-delivery "
        "is retried by another after this. Must exceed webhook_timeout",
    )
    webhook_retry_base_seconds: float = Field(
        default=5.0, gt=0, description="Wait after the first failed attempt"
    )
    webhook_retry_factor: float = Field(
        default=4.0, ge=1, description="Each further wait is this many times the previous"
    )
    webhook_retry_cap_seconds: float = Field(
        default=43_200.0, gt=0, description="Longest wait between attempts"
    )
    webhook_give_up_seconds: float = Field(
        default=259_200.0, gt=0, description="Stop retrying a message this long after it was made"
    )
    webhook_retry_after_cap_seconds: float = Field(
        default=86_400.0, ge=0, description="Longest Retry-After honoured"
    )
    webhook_concurrency: int = Field(
        default=16, ge=1, le=256, description="Deliveries one dispatcher makes at once"
    )
    webhook_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often an idle dispatcher looks for due deliveries"
    )
    webhook_scan_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="How often the dispatcher scans for deadline reminders (0: never)",
    )
    webhook_rotation_overlap_seconds: float = Field(
        default=86_400.0,
        ge=0,
        le=7 * 86_400,
        description="How long a rotated webhook secret still signs (a second signature)",
    )
    webhook_dispatch_in_serve: bool = Field(
        default=False,
        description="Run a webhook dispatcher inside `dropscope serve` (one per worker)",
    )
    max_webhooks_per_account: int = Field(
        default=20, ge=1, description="Webhook endpoints a non-operator account may hold"
    )
    events_stream_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long one SSE response of /v1/events/stream lasts before the client "
        "reconnects (with Last-Event-ID)",
    )
    events_stream_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often the SSE stream looks for new events"
    )

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks_parse(cls, networks: tuple[str, ...]) -> tuple[str, ...]:
        for n in networks:
            try:
                ipaddress.ip_network(n, strict=False)
            except ValueError as exc:
                raise ValueError(f"webhook_allowed_networks: {exc}") from None
        return networks

    @model_validator(mode="after")
    def _lease_outlasts_timeout(self) -> Settings:
        if self.webhook_lease_seconds <= self.webhook_timeout:
            raise ValueError("webhook_lease_seconds must be longer than webhook_timeout")
        return self
