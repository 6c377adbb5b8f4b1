"""The airdrop potential score (0–100): how promising a project's airdrop looks, explained.

    potential = Σ weight_f · value_f   over the factors f below (weights sum to 1)

======================  ======  ========================================================
factor                  weight  value (0–100)
======================  ======  ========================================================
tech                    0.25    the tech score
fundamentals            0.15    the fundamentals score (curated, else computed)
funding                 0.15    funding raised on a log scale ($1M = 0, $100M+ = 100)
valuation               0.10    latest valuation on a log scale ($10M = 0, $10B+ = 100)
investors               0.10    investor track record: 100 · (1 − Π (1 − p_i)), where
                                p_i = (hits_i + 1) / (backed_i + 2) for each backer i:
                                of the *other* researched projects it backs, the share
                                whose airdrop reached "confirmed" or later (Laplace-smoothed)
status                  0.15    possible 40, likely 70, confirmed 90, snapshot taken 100,
                                claimable 100, distributed 0, ruled out 0
narratives              0.10    the heat of its hottest narrative: how many researched
                                projects share it, relative to the most shared narrative
======================  ======  ========================================================

A factor whose input is unknown counts as `unknown_value` (default 50, neither rewarded
nor punished) and is marked unknown in the breakdown.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields

from dropscope.domain.status import AirdropStatus

DEFAULT_STATUS_VALUES: Mapping[AirdropStatus, float] = {
    AirdropStatus.POSSIBLE: 40.0,
    AirdropStatus.LIKELY: 70.0,
    AirdropStatus.CONFIRMED: 90.0,
    AirdropStatus.SNAPSHOT_TAKEN: 100.0,
    AirdropStatus.CLAIMABLE: 100.0,
    AirdropStatus.DISTRIBUTED: 0.0,
    AirdropStatus.RULED_OUT: 0.0,
}


@dataclass(frozen=True, slots=True)
class PotentialWeights:
    """Weight of each factor; they are normalised to sum to 1."""

    tech: float = 0.25
    fundamentals: float = 0.15
    funding: float = 0.15
    valuation: float = 0.10
    investors: float = 0.10
    status: float = 0.15
    narratives: float = 0.10

    def normalised(self) -> dict[str, float]:
        return dict(_normalised(self))


@functools.lru_cache(maxsize=32)
def _normalised(weights: PotentialWeights) -> tuple[tuple[str, float], ...]:
    raw = {f.name: float(getattr(weights, f.name)) for f in fields(weights)}
    total = sum(raw.values())
    if total <= 0 or any(w < 0 for w in raw.values()):
        raise ValueError("potential weights must be non-negative and not all zero")
    return tuple((k, v / total) for k, v in raw.items())


@dataclass(frozen=True, slots=True)
class InvestorRecord:
    """An investor's record among the other researched projects it backs."""

    slug: str
    backed: int
    reached: int  # of those, how many reached "confirmed" or a later stage

    @property
    def probability(self) -> float:
        return (self.reached + 1) / (self.backed + 2)


@dataclass(frozen=True, slots=True)
class Factor:
    name: str
    value: float | None  # None = unknown (counted as the unknown value)
    weight: float
    contribution: float
    detail: str


@dataclass(frozen=True, slots=True)
class Potential:
    value: float
    factors: tuple[Factor, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class InvestorTally:
    """For each investor, the researched projects it backs and how many reached
    "confirmed" or later. Built once per board, so each project's records cost O(investors)."""

    backed: Mapping[str, frozenset[str]]
    reached: Mapping[str, frozenset[str]]

    @classmethod
    def build(
        cls, portfolios: Mapping[str, Sequence[str]], statuses: Mapping[str, AirdropStatus]
    ) -> InvestorTally:
        def hit(p: str) -> bool:
            return p in statuses and statuses[p].rank >= AirdropStatus.CONFIRMED.rank

        backed = {inv: frozenset(ps) for inv, ps in portfolios.items()}
        reached = {inv: frozenset(p for p in ps if hit(p)) for inv, ps in backed.items()}
        return cls(backed, reached)

    def records(self, investors: Iterable[str], project_slug: str) -> list[InvestorRecord]:
        """Records of `investors`, leaving `project_slug` itself out (its own status is a
        separate factor)."""
        out = []
        for inv in investors:
            backed = self.backed.get(inv, frozenset())
            reached = self.reached.get(inv, frozenset())
            out.append(
                InvestorRecord(
                    inv,
                    len(backed) - (project_slug in backed),
                    len(reached) - (project_slug in reached),
                )
            )
        return out


def investor_records(
    investors: Iterable[str],
    project_slug: str,
    portfolios: Mapping[str, Sequence[str]],
    statuses: Mapping[str, AirdropStatus],
) -> list[InvestorRecord]:
    """Records of `investors` for one project (see `InvestorTally` to do many at once).
    `portfolios` maps investor → project slugs it backs."""
    return InvestorTally.build(portfolios, statuses).records(investors, project_slug)


def narrative_heat(narratives_by_project: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """Each narrative's share of projects relative to the most shared one (0–100)."""
    counts = Counter(n for ns in narratives_by_project.values() for n in set(ns))
    top = max(counts.values(), default=0)
    return {n: 100.0 * c / top for n, c in counts.items()} if top else {}


def potential(
    *,
    tech: float | None,
    fundamentals: float | None,
    funding: float | None,
    valuation: float | None,
    investors: Sequence[InvestorRecord],
    status: AirdropStatus,
    narratives: Sequence[str],
    heat: Mapping[str, float],
    weights: PotentialWeights = PotentialWeights(),
    status_values: Mapping[AirdropStatus, float] = DEFAULT_STATUS_VALUES,
    unknown_value: float = 50.0,
) -> Potential:
    """The potential score with one `Factor` per input (see the module docstring)."""
    w = weights.normalised()
    inv_value: float | None = None
    inv_detail = "no named investors"
    if investors:
        miss = 1.0
        for r in investors:
            miss *= 1.0 - r.probability
        inv_value = 100.0 * (1.0 - miss)
        inv_detail = ", ".join(f"{r.slug} {r.reached}/{r.backed}" for r in investors)
    hot = max(narratives, key=lambda n: (heat.get(n, 0.0), n), default=None)
    narr_value = heat.get(hot, 0.0) if hot is not None else None
    raw: list[tuple[str, float | None, str]] = [
        ("tech", tech, "tech score"),
        ("fundamentals", fundamentals, "fundamentals score"),
        ("funding", funding, "log scale of funding raised"),
        ("valuation", valuation, "log scale of latest valuation"),
        ("investors", inv_value, inv_detail),
        ("status", status_values[status], f"status {status.label}"),
        ("narratives", narr_value, f"hottest narrative: {hot}" if hot else "no narratives"),
    ]
    factors = []
    total = 0.0
    for name, value, detail in raw:
        used = unknown_value if value is None else max(0.0, min(100.0, value))
        total += w[name] * used
        known = None if value is None else round(used, 1)
        factors.append(Factor(name, known, round(w[name], 4), round(w[name] * used, 2), detail))
    return Potential(round(min(100.0, total), 1), tuple(factors))
