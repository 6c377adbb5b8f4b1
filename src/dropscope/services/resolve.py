"""Names to slugs: what an agent (or a person) calls a project, investor or past airdrop,
turned into the slug every other call takes.

A miss is an answer, not an error: `Resolution.matches` is empty and `suggestions` holds the
closest known names, so a caller can retry with one of them.

Matching, in order: exact slug; the normalised name, slug or an alias
(`domain.text.normalise_name`: case, spaces and punctuation ignored, so "Star Knet" and
"starknet" meet), those whose slug the query normalises to first; then close spellings
(`domain.text.closest`, difflib ratio ≥ 0.6) and names that contain the query or that the
query contains, as suggestions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from dropscope.domain.text import closest, normalise_name
from dropscope.errors import InvalidInput
from dropscope.services.database import UnitOfWork

Kind = Literal["project", "investor", "past_airdrop"]
KINDS: tuple[Kind, ...] = ("project", "investor", "past_airdrop")
MAX_QUERY = 200


@dataclass(frozen=True, slots=True)
class Named:
    """One thing dropscope knows by name."""

    kind: Kind
    slug: str
    name: str
    aliases: tuple[str, ...] = ()

    def normalised(self) -> set[str]:
        """Its slug, name and aliases as matching keys."""
        return {normalise_name(n) for n in (self.slug, self.name, *self.aliases)}


@dataclass(frozen=True, slots=True)
class Resolution:
    query: str
    matches: tuple[Named, ...]
    suggestions: tuple[Named, ...]

    @property
    def found(self) -> bool:
        return bool(self.matches)


def _everything(uow: UnitOfWork, kinds: Iterable[Kind]) -> list[Named]:
    out: list[Named] = []
    wanted = set(kinds)
    if "project" in wanted:
        out += [Named("project", p.slug, p.name, p.aliases) for p in uow.projects.list_all()]
    if "investor" in wanted:
        out += [Named("investor", i.slug, i.name, i.aliases) for i in uow.investors.list_all()]
    if "past_airdrop" in wanted:
        out += [
            Named("past_airdrop", a.slug, a.name, (a.token_symbol,))
            for a in uow.past_airdrops.list_all()
        ]
    return out


def resolve(
    uow: UnitOfWork, query: str, kinds: Iterable[Kind] = KINDS, *, limit: int = 5
) -> Resolution:
    """Everything named `query` (exact slug, name or alias, ignoring case and punctuation),
    projects first; when nothing is, up to `limit` suggestions, closest first."""
    text = query.strip()
    if not text:
        raise InvalidInput("give a name to resolve")
    if len(text) > MAX_QUERY:
        raise InvalidInput(f"a name is at most {MAX_QUERY} characters")
    named = _everything(uow, kinds)
    key = normalise_name(text)
    exact = [n for n in named if n.slug == text] or [
        n for n in named if key and key in n.normalised()
    ]
    if exact:
        # What the query is the slug of comes first: a name another project shares (a
        # look-alike) never outranks it (`domain.names`).
        exact.sort(key=lambda n: normalise_name(n.slug) != key)
        return Resolution(text, tuple(exact), ())
    labels: dict[str, list[Named]] = {}
    for n in named:
        for label in (n.slug, n.name.lower(), *(a.lower() for a in n.aliases)):
            labels.setdefault(label, []).append(n)
    ranked: list[Named] = []
    for label in closest(text, labels, n=limit):
        ranked += labels[label]
    if len(key) >= 3:  # shorter fragments would match nearly everything
        ranked += [
            n for n in named if any(key in k or (len(k) >= 3 and k in key) for k in n.normalised())
        ]
    seen: set[tuple[str, str]] = set()
    suggestions = []
    for n in ranked:
        if (n.kind, n.slug) not in seen:
            seen.add((n.kind, n.slug))
            suggestions.append(n)
    return Resolution(text, (), tuple(suggestions[:limit]))
