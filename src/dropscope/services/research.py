"""Project profiles, comparisons, investors and past airdrops: the research read side."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from dropscope.domain.assess import Assessment, AssessParams, assess_all
from dropscope.domain.classify import status_history
from dropscope.domain.models import Investor, PastAirdrop, Project, Source
from dropscope.domain.names import pick
from dropscope.domain.potential import narrative_heat
from dropscope.domain.status import AirdropStatus, StatusChange
from dropscope.domain.text import closest, normalise_name
from dropscope.errors import InvalidInput, NotFound
from dropscope.services.database import UnitOfWork


@dataclass(frozen=True, slots=True)
class Competitor:
    slug: str
    name: str
    researched: bool


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything about one project on a date, references resolved."""

    assessment: Assessment
    history: tuple[StatusChange, ...]  # replayed from the evidence
    recorded: tuple[StatusChange, ...]  # as noticed by loads and ingestion runs
    investors: dict[str, Investor]
    competitors: tuple[Competitor, ...]
    sources: dict[str, Source]


@dataclass(frozen=True, slots=True)
class Backing:
    project_slug: str
    project_name: str
    status: AirdropStatus
    lead: bool
    rounds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InvestorView:
    investor: Investor
    portfolio: tuple[Backing, ...]

    @property
    def airdropped(self) -> int:
        """Backed projects whose airdrop reached confirmed or later."""
        return sum(1 for b in self.portfolio if b.status.rank >= AirdropStatus.CONFIRMED.rank)


def get_project(uow: UnitOfWork, key: str) -> Project:
    """A project by slug (one query), else by name or alias when one project alone has it
    (`domain.names.pick`); NotFound with suggestions."""
    found = uow.projects.get(key)
    return found if found is not None else pick(uow.projects.list_all(), key)


def profiles(
    uow: UnitOfWork, keys: Sequence[str], at: date, params: AssessParams | None = None
) -> list[Profile]:
    """Profiles of the projects named by slug, name or alias (`domain.names.pick`), in the
    order asked."""
    projects = uow.projects.list_all()
    wanted = [pick(projects, k) for k in keys]
    by_slug = {a.project.slug: a for a in assess_all(projects, at, params)}
    investors = {i.slug: i for i in uow.investors.list_all()}
    peers = {p.slug: p.name for p in uow.peers.list_all()}
    names = {p.slug: p.name for p in projects} | peers
    sources = {s.id: s for s in uow.sources.list_all()}
    out = []
    for p in wanted:
        a = by_slug[p.slug]
        out.append(
            Profile(
                assessment=a,
                history=tuple(status_history(p.slug, p.evidence, at)),
                recorded=tuple(uow.status_changes.for_project(p.slug)),
                investors={s: investors[s] for s in a.project.investor_slugs if s in investors},
                competitors=tuple(
                    Competitor(c, names.get(c, c), c not in peers) for c in p.competitors
                ),
                sources=sources,
            )
        )
    return out


def profile(uow: UnitOfWork, key: str, at: date, params: AssessParams | None = None) -> Profile:
    return profiles(uow, [key], at, params)[0]


def compare(
    uow: UnitOfWork, keys: Sequence[str], at: date, params: AssessParams | None = None
) -> list[Profile]:
    """Two or more distinct projects side by side."""
    if len(keys) < 2:
        raise InvalidInput("compare needs at least two projects")
    found = profiles(uow, keys, at, params)
    slugs = [p.assessment.project.slug for p in found]
    if len(set(slugs)) != len(slugs):
        raise InvalidInput("compare needs distinct projects")
    return found


def investors(
    uow: UnitOfWork, at: date, name: str | None = None, params: AssessParams | None = None
) -> list[InvestorView]:
    """Every investor with its portfolio (or the one matching `name`), most projects first."""
    all_investors = uow.investors.list_all()
    if name is not None:
        key = normalise_name(name)
        chosen = [
            i
            for i in all_investors
            if key in {normalise_name(n) for n in (i.slug, i.name, *i.aliases)}
        ]
        if not chosen:
            raise NotFound(f"no investor {name!r}", closest(name, [i.slug for i in all_investors]))
        all_investors = chosen
    assessed = assess_all(uow.projects.list_all(), at, params)
    views = []
    for inv in all_investors:
        backing = []
        for a in assessed:
            rounds = [r for r in a.project.funding_rounds if inv.slug in r.investors]
            if rounds:
                backing.append(
                    Backing(
                        a.project.slug,
                        a.project.name,
                        a.status,
                        any(inv.slug in r.lead_investors for r in rounds),
                        tuple(r.round for r in rounds),
                    )
                )
        views.append(InvestorView(inv, tuple(backing)))
    return sorted(views, key=lambda v: (-len(v.portfolio), v.investor.name.lower()))


def past_airdrops(uow: UnitOfWork) -> tuple[list[PastAirdrop], dict[str, Source]]:
    """Past airdrops, oldest snapshot first, with the sources their figures cite."""
    return uow.past_airdrops.list_all(), {s.id: s for s in uow.sources.list_all()}


@dataclass(frozen=True, slots=True)
class NarrativeView:
    slug: str
    heat: float
    projects: tuple[str, ...]
    statuses: dict[str, int]


def narratives(
    uow: UnitOfWork, at: date, params: AssessParams | None = None
) -> list[NarrativeView]:
    """Every narrative with its projects and their statuses on `at`, most shared first."""
    assessed = assess_all(uow.projects.list_all(), at, params)
    heat = narrative_heat({a.project.slug: a.project.narratives for a in assessed})
    members: dict[str, list[Assessment]] = {}
    for a in assessed:
        for n in a.project.narratives:
            members.setdefault(n, []).append(a)
    views = [
        NarrativeView(
            slug=n,
            heat=round(heat.get(n, 0.0), 1),
            projects=tuple(a.project.slug for a in items),
            statuses=dict(Counter(a.status.value for a in items)),
        )
        for n, items in members.items()
    ]
    return sorted(views, key=lambda v: (-len(v.projects), v.slug))
