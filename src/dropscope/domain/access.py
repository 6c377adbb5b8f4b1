"""Who is calling and what they may do: scopes, plans, and the authenticated caller.

Shared by API keys (authentication) and rate limiting (which reads the caller's plan).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    READ = "read"  # every GET on research data
    WRITE = "write"  # curation: projects, evidence
    ADMIN = "admin"  # keys and accounts


@dataclass(frozen=True, slots=True)
class Plan:
    """Limits of a plan: requests per minute (sliding window) and per calendar month (UTC)."""

    name: str
    per_minute: int
    per_month: int


DEFAULT_PLANS: tuple[Plan, ...] = (
    Plan("free", per_minute=60, per_month=10_000),
    Plan("silver", per_minute=300, per_month=100_000),
    Plan("gold", per_minute=1_200, per_month=1_000_000),
    Plan("platinum", per_minute=6_000, per_month=10_000_000),
)


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller of one request, as the auth middleware puts it in the ASGI
    scope (`scope["state"]["caller"]`) for the routes and the rate limiter."""

    key_id: str  # stable public id of the key (never the key itself)
    account_id: str  # the tenant
    scopes: frozenset[Scope]
    plan: Plan

    def can(self, scope: Scope) -> bool:
        """Exactly the scopes granted: admin does not imply read or write."""
        return scope in self.scopes
