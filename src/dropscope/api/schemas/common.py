"""Shapes shared by several resources: citations, sources, problems, pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dropscope.domain.models import Citation, Source


class Out(BaseModel):
    """Base of response schemas: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class CitationOut(Out):
    source: str = Field(description="Source id; see `sources`", examples=["tm-upcoming-airdrops"])
    as_of: date = Field(description="The date the fact describes", examples=["2023-12-15"])
    quote: str | None = Field(default=None, description="A short verbatim quote, when kept")

    @classmethod
    def of(cls, c: Citation) -> CitationOut:
        return cls(source=c.source_id, as_of=c.as_of, quote=c.quote)


class SourceOut(Out):
    id: str = Field(examples=["tm-upcoming-airdrops"])
    title: str = Field(examples=["Upcoming Crypto Airdrops - The Gateway to Wealth Generation"])
    publisher: str = Field(examples=["Token Metrics"])
    url: str | None = None
    published_on: date | None = None
    note: str | None = None

    @classmethod
    def of(cls, s: Source) -> SourceOut:
        return cls(
            id=s.id,
            title=s.title,
            publisher=s.publisher,
            url=s.url,
            published_on=s.published_on,
            note=s.note,
        )


class Problem(BaseModel):
    """RFC 9457 problem details: every error response has this shape."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["https://dropscope.dev/problems/not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["no project 'starknt'"])
    instance: str | None = Field(default=None, examples=["/v1/projects/starknt"])
    request_id: str | None = Field(default=None, examples=["3f2a9c0d4b5e4f6a8b7c9d0e1f2a3b4c"])
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="For invalid input: [{loc, msg}]"
    )
    suggestions: list[str] | None = Field(default=None, examples=[["starknet"]])


def usd(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "Bad input (unknown or invalid parameter)"},
    404: {"model": Problem, "description": "No such resource"},
    406: {"model": Problem, "description": "Not acceptable"},
    500: {"model": Problem, "description": "Unexpected error"},
    503: {"model": Problem, "description": "Database unavailable"},
}
for _code in PROBLEM_RESPONSES:
    PROBLEM_RESPONSES[_code]["content"] = {"application/problem+json": {}}
