"""The shape of the curated data files, validated strictly (unknown keys are errors).

One model per file kind; `docs/data-model.md` shows an annotated example of each. These
models only check shape and values; cross-file references are checked in `curated.py`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StringConstraints,
    field_validator,
)

from dropscope.domain.models import EvidenceKind, FigureMetric, ScoreKind
from dropscope.domain.names import name_problem

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80)]
# Free text: no control characters other than tab and newline (NUL cannot be stored in
# PostgreSQL text, and none of them belongs in research prose).
Text = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=5000,
        strip_whitespace=True,
        pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$",
    ),
]


def _safe_name(text: str) -> str:
    if (problem := name_problem(text)) is not None:
        raise ValueError(problem)
    return text


# A name or alias something is looked up and shown by: Text without any control or format
# character (Unicode Cc, Cf), so no bidi override or zero-width character can disguise it.
Name = Annotated[Text, AfterValidator(_safe_name)]
Url = Annotated[str, StringConstraints(pattern=r"^https://[^\s\x00-\x1f\x7f]+$", max_length=500)]
Domain = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")]
Usd = Annotated[Decimal, Field(ge=0, le=Decimal("1e13"), allow_inf_nan=False)]
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: object) -> object:
    """A date (YAML reads one from `2024-01-05`) or YYYY-MM-DD text (JSON): pydantic's
    `date` alone also takes a number as a Unix time (0 would be 1970-01-01)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("expected a date as YYYY-MM-DD, e.g. 2024-01-05")


# Strict where pydantic is lax, for the API's request bodies as for the files: a date is a
# date, a score a number (not `true`), `official` a boolean (not 1 or "yes").
Day = Annotated[date, BeforeValidator(_iso_day)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CiteIn(_Strict):
    source: Slug
    as_of: Day
    quote: Text | None = None


class SourceIn(_Strict):
    id: Slug
    title: Text
    publisher: Text
    url: Url | None = None
    published_on: Day | None = None
    note: Text | None = None


class SourcesFile(_Strict):
    sources: list[SourceIn]


class InvestorIn(_Strict):
    slug: Slug
    name: Name
    aliases: list[Name] = []
    website: Url | None = None


class InvestorsFile(_Strict):
    investors: list[InvestorIn]


class PeerIn(InvestorIn):
    pass


class PeersFile(_Strict):
    peers: list[PeerIn]


class TokenIn(_Strict):
    symbol: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.$]{1,15}$")] | None = None
    coingecko_id: Slug | None = None


class ProgrammeIn(_Strict):
    name: Text
    url: Url | None = None
    cite: CiteIn


class ScoreIn(_Strict):
    kind: ScoreKind
    value: StrictFloat = Field(ge=0, le=100, allow_inf_nan=False)
    label: Text
    cite: CiteIn


class FundingIn(_Strict):
    id: Slug
    round: Slug
    announced_on: Day | None = None
    amount_usd: Usd | None = None
    amount_qualifier: Literal["over", "about", "at least", "up to"] | None = None
    valuation_usd: Usd | None = None
    lead_investors: list[Slug] = []
    other_investors: list[Slug] = []
    note: Text | None = None
    cite: CiteIn


class EvidenceIn(_Strict):
    id: Slug
    kind: EvidenceKind
    occurred_on: Day
    public_on: Day
    official: StrictBool = False
    window_end: Day | None = None
    summary: Text
    cite: CiteIn


class ProjectFile(_Strict):
    slug: Slug
    name: Name
    aliases: list[Name] = []
    summary: Text
    sector: Slug
    website: Url | None = None
    official_domains: list[Domain] = []
    chains: list[Slug] = []
    narratives: list[Slug] = []
    competitors: list[Slug] = []
    profile_cite: CiteIn
    token: TokenIn = TokenIn()
    testnet: ProgrammeIn | None = None
    points_program: ProgrammeIn | None = None
    scores: list[ScoreIn] = []
    funding: list[FundingIn] = []
    evidence: list[EvidenceIn] = []

    @field_validator("scores")
    @classmethod
    def _one_score_per_kind(cls, scores: list[ScoreIn]) -> list[ScoreIn]:
        kinds = [s.kind for s in scores]
        if len(kinds) != len(set(kinds)):
            raise ValueError("at most one score of each kind")
        return scores


class FigureIn(_Strict):
    metric: FigureMetric
    value: Decimal = Field(ge=0, allow_inf_nan=False)
    qualifier: Literal["about", "at least", "up to", "over"] | None = None
    note: Text | None = None
    cite: CiteIn


class PastAirdropFile(_Strict):
    slug: Slug
    name: Name
    token_symbol: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.$]{1,15}$")]
    project: Slug | None = None
    snapshot_on: Day | None = None
    claim_start: Day | None = None
    claim_end: Day | None = None
    cite: CiteIn
    figures: list[FigureIn] = []
    notes: list[Text] = []
