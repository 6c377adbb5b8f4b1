"""Funding figures, computed fundamentals and the potential score."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dropscope.domain.models import Citation, FundingRound
from dropscope.domain.potential import (
    InvestorRecord,
    PotentialWeights,
    investor_records,
    narrative_heat,
    potential,
)
from dropscope.domain.scoring import (
    computed_fundamentals,
    format_usd,
    funding_subscore,
    latest_valuation,
    total_raised,
    valuation_subscore,
)
from dropscope.domain.status import AirdropStatus

CITE = Citation("src", date(2023, 12, 15))


def rnd(
    id: str,
    round: str,
    amount: int | None,
    valuation: int | None = None,
    on: date | None = None,
    investors: tuple[str, ...] = (),
) -> FundingRound:
    return FundingRound(
        id=id,
        round=round,
        citation=CITE,
        announced_on=on,
        amount_usd=None if amount is None else Decimal(amount),
        valuation_usd=None if valuation is None else Decimal(valuation),
        other_investors=investors,
    )


def test_log_scales() -> None:
    assert funding_subscore(Decimal(1_000_000)) == 0
    assert funding_subscore(Decimal(10_000_000)) == 50
    assert funding_subscore(Decimal(450_000_000)) == 100
    assert funding_subscore(None) is None
    assert valuation_subscore(Decimal(10_000_000_000)) == 100
    assert valuation_subscore(Decimal(0)) == 0


def test_total_raised_prefers_the_larger_of_total_and_sum() -> None:
    rounds = [rnd("a", "seed", 3_000_000), rnd("b", "series-a", 10_000_000)]
    assert total_raised(rounds) == Decimal(13_000_000)
    assert total_raised([*rounds, rnd("t", "total", 100_000_000)]) == Decimal(100_000_000)
    assert total_raised([rnd("x", "seed", None)]) is None


def test_latest_valuation_uses_the_newest_dated_round() -> None:
    rounds = [
        rnd("old", "seed", 1, 50_000_000, date(2021, 1, 1)),
        rnd("new", "series-a", 1, 900_000_000, date(2022, 1, 1)),
        rnd("undated", "total", 1, 10_000_000),
    ]
    assert latest_valuation(rounds) == Decimal(900_000_000)


def test_computed_fundamentals_needs_two_inputs_and_explains_itself() -> None:
    assert computed_fundamentals([rnd("a", "seed", 6_000_000)]) is None
    score = computed_fundamentals([rnd("a", "total", 120_000_000, 3_000_000_000)])
    assert score is not None
    assert score.value == pytest.approx((0.40 * 100 + 0.35 * 82.6) / 0.75, abs=0.1)
    assert [b.name for b in score.breakdown] == ["funding", "valuation", "investors"]
    assert score.breakdown[2].value is None


def test_format_usd() -> None:
    assert format_usd(Decimal(120_000_000)) == "$120M"
    assert format_usd(Decimal(6_700_000)) == "$6.7M"
    assert format_usd(Decimal(8_000_000_000)) == "$8B"


def test_investor_records_leave_the_project_itself_out() -> None:
    portfolios = {"gsr": ["taiko", "zetachain", "x"]}
    statuses = {
        "taiko": AirdropStatus.DISTRIBUTED,
        "zetachain": AirdropStatus.POSSIBLE,
        "x": AirdropStatus.CONFIRMED,
    }
    (rec,) = investor_records(["gsr"], "taiko", portfolios, statuses)
    assert (rec.backed, rec.reached) == (2, 1)
    assert rec.probability == pytest.approx(0.5)


def test_narrative_heat_is_relative_to_the_most_shared() -> None:
    heat = narrative_heat({"a": ["zk", "l2"], "b": ["zk"], "c": ["depin"]})
    assert heat == {"zk": 100.0, "l2": 50.0, "depin": 50.0}


def _pot(**kw: object) -> float:
    base: dict[str, object] = {
        "tech": 90.0,
        "fundamentals": 80.0,
        "funding": 60.0,
        "valuation": 70.0,
        "investors": [],
        "status": AirdropStatus.LIKELY,
        "narratives": ["zk"],
        "heat": {"zk": 100.0},
    }
    base.update(kw)
    return potential(**base).value  # type: ignore[arg-type]


def test_potential_breakdown_adds_up() -> None:
    p = potential(
        tech=90.0,
        fundamentals=None,
        funding=60.0,
        valuation=70.0,
        investors=[InvestorRecord("a", 2, 1)],
        status=AirdropStatus.CONFIRMED,
        narratives=["zk"],
        heat={"zk": 100.0},
    )
    assert sum(f.contribution for f in p.factors) == pytest.approx(p.value, abs=0.1)
    assert sum(f.weight for f in p.factors) == pytest.approx(1.0)
    fundamentals = next(f for f in p.factors if f.name == "fundamentals")
    assert fundamentals.value is None  # unknown, counted as the neutral 50
    assert fundamentals.contribution == pytest.approx(0.15 * 50)


def test_potential_rewards_progress_and_drops_after_distribution() -> None:
    assert _pot(status=AirdropStatus.CONFIRMED) > _pot(status=AirdropStatus.LIKELY)
    assert _pot(status=AirdropStatus.DISTRIBUTED) < _pot(status=AirdropStatus.POSSIBLE)


def test_potential_weights_must_be_valid() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        PotentialWeights(tech=-1).normalised()


unit = st.one_of(st.none(), st.floats(-50, 150, allow_nan=False))


@given(
    unit,
    unit,
    unit,
    unit,
    st.sampled_from(list(AirdropStatus)),
    st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), max_size=5),
    st.floats(0, 100),
)
def test_potential_stays_in_0_100(tech, fund, funding, valuation, status, recs, heat) -> None:
    records = [InvestorRecord(str(i), b + r, min(r, b + r)) for i, (b, r) in enumerate(recs)]
    p = potential(
        tech=tech,
        fundamentals=fund,
        funding=funding,
        valuation=valuation,
        investors=records,
        status=status,
        narratives=["n"],
        heat={"n": heat},
    )
    assert 0 <= p.value <= 100
    assert all(f.value is None or 0 <= f.value <= 100 for f in p.factors)


@given(st.lists(st.tuples(st.integers(0, 10**10), st.integers(0, 10**11)), max_size=4))
def test_computed_fundamentals_stays_in_0_100(rows) -> None:
    rounds = [rnd(str(i), "seed", a, v, investors=("x",)) for i, (a, v) in enumerate(rows)]
    s = computed_fundamentals(rounds)
    assert s is None or 0 <= s.value <= 100
