"""The one error tree of dropscope. It imports nothing and knows no HTTP.

Each entry point translates it once: the API into problem+json, the CLI into a one-line
message and an exit code, the MCP server into a tool error.

    DropscopeError
    ├── NotFound            a slug, id or file that does not exist (may carry suggestions)
    ├── Conflict            a duplicate or a write that contradicts stored state
    │   └── IdempotencyMismatch  an idempotency key reused with a different request
    ├── InvalidInput        a bad argument or value from a user
    │   └── DataFileError   a curated data file that fails validation (names file and field)
    ├── Unauthorized        no or bad credentials
    ├── Forbidden           credentials without the needed permission
    ├── RateLimited         a limit or quota is used up (carries retry_after seconds)
    ├── SourceUnavailable   a public data source is down, slow or answers garbage
    └── StorageError        the database is unreachable or not migrated
"""

from __future__ import annotations


class DropscopeError(Exception):
    """Base of every error dropscope raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DropscopeError):
    """Something asked for by name does not exist; `suggestions` holds close matches."""

    def __init__(self, message: str, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.suggestions = suggestions


class Conflict(DropscopeError):
    """A duplicate, or a write that contradicts what is stored."""


class IdempotencyMismatch(Conflict):
    """An idempotency key that was already used for a different request."""


class InvalidInput(DropscopeError):
    """A value given by a user is not acceptable. For a document (a request body), `fields`
    lists each problem as (field path, message), e.g. ("scores[0].value", "...")."""

    def __init__(self, message: str, fields: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.fields = fields


class DataFileError(InvalidInput):
    """A curated data file fails validation. `problems` lists (file, field, message)."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        first = problems[0] if problems else ("?", "?", "invalid data")
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{first[0]}: {first[1]}: {first[2]}{more}")


class Unauthorized(DropscopeError):
    """No credentials, or credentials that are not valid."""


class Forbidden(DropscopeError):
    """Valid credentials that lack the permission needed."""


class RateLimited(DropscopeError):
    """A rate limit or quota is used up."""

    def __init__(self, message: str, retry_after: int, policy: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.policy = policy


class SourceUnavailable(DropscopeError):
    """A public data source could not be used (down, slow, rate limiting, garbage)."""


class StorageError(DropscopeError):
    """The database cannot be reached or its schema is not current."""
