"""What adapters share: the batch they return, the targets they are given, and strict
record parsing that rejects garbage with a message naming the record and the field.

A response whose overall shape is wrong (an object where a list is expected, a list of
strings) fails the whole source. Inside a well-shaped response, a record with a wrong type
or an absurd value is rejected on its own and listed in `SourceBatch.rejected`; if more than
half of the records are rejected the response is treated as garbage and the source fails,
so a broken feed can never replace good data with a few stray rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from dropscope.domain.ingested import (
    AbsurdValue,
    AirdropRecord,
    CachedResponse,
    MarketRecord,
    ProtocolListing,
    RaiseRecord,
    RepoMetrics,
    SourceName,
)
from dropscope.errors import SourceUnavailable

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

GARBAGE_SHARE = 0.5  # more than this share of rejected records fails the source


@dataclass(frozen=True, slots=True)
class Targets:
    """What the pipeline asks adapters to look up, from the projects and earlier sources.

    - `protocol_slugs`: DefiLlama slugs of protocols matched to projects (for details);
    - `coingecko_ids`: CoinGecko ids known for projects, by id → project slug;
    - `contracts`: token contract addresses (lowercase) → project slug;
    - `detail_ids`: CoinGecko ids whose coin detail (genesis date, repositories) is wanted;
    - `github`: per project slug, GitHub organisations or owner/name repositories.
    """

    protocol_slugs: tuple[str, ...] = ()
    coingecko_ids: Mapping[str, str] = field(default_factory=dict)
    contracts: Mapping[str, str] = field(default_factory=dict)
    detail_ids: tuple[str, ...] = ()
    github: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class SourceBatch:
    """One source's records from one run, with what was rejected and why."""

    source: SourceName
    listings: list[ProtocolListing] = field(default_factory=list)
    raises: list[RaiseRecord] = field(default_factory=list)
    airdrops: list[AirdropRecord] = field(default_factory=list)
    markets: list[MarketRecord] = field(default_factory=list)
    contract_ids: dict[str, str] = field(default_factory=dict)  # contract → coingecko id
    coin_repos: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id → owner/name
    repos: dict[str, RepoMetrics] = field(default_factory=dict)  # project slug → metrics
    rejected: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cache: list[CachedResponse] = field(default_factory=list)  # validators to store
    not_modified: bool = False

    @property
    def records(self) -> int:
        return (
            len(self.listings)
            + len(self.raises)
            + len(self.airdrops)
            + len(self.markets)
            + len(self.repos)
        )


def expect_list(source: str, url: str, data: Any, what: str) -> list[Any]:
    if not isinstance(data, list):
        raise SourceUnavailable(
            f"{source}: {url} did not answer a list of {what} (got {_type_name(data)})"
        )
    return data


def expect_object(source: str, url: str, data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SourceUnavailable(
            f"{source}: {url} did not answer an object of {what} (got {_type_name(data)})"
        )
    return data


def parse_records(
    source: str,
    url: str,
    items: Iterable[tuple[str, Any]],
    model: type[M],
    build: Callable[[str, M], T | None],
    rejected: list[str],
    what: str,
) -> list[T]:
    """Validate each (key, raw) with `model`, then `build(key, record)` (which may raise
    `AbsurdValue`, or return None to skip). Rejections go to `rejected`, labelled
    "`what` key (name)"; too many fail the source (see the module docstring)."""
    out: list[T] = []
    total = 0
    bad: list[str] = []
    for key, raw in items:
        total += 1
        label = f"{what} {key}"
        if isinstance(raw, dict) and isinstance(raw.get("name"), str):
            label += f" ({raw['name']!r})"
        try:
            if not isinstance(raw, dict):
                raise AbsurdValue(f"is {_type_name(raw)}, not an object")
            built = build(key, model.model_validate(raw))
        except ValidationError as exc:
            bad.append(f"{label}: {_validation_message(exc)}")
            continue
        except AbsurdValue as exc:
            bad.append(f"{label}: {exc}")
            continue
        if built is not None:
            out.append(built)
    if total and len(bad) > total * GARBAGE_SHARE:
        raise SourceUnavailable(
            f"{source}: {url} answered garbage: {len(bad)} of {total} records rejected "
            f"(first: {bad[0]})"
        )
    rejected.extend(bad)
    return out


def decimal(value: float | int | str | None) -> Decimal | None:
    """A JSON number as an exact Decimal (through its shortest text form)."""
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise AbsurdValue(f"{value!r} is not a number") from None


def _validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or "record"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{loc}: {first['msg']}{more}"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__
