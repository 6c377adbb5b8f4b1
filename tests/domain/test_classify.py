"""classify and status_history: the rules, the as-of semantics, and their invariants."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dropscope.domain.classify import classify, status_history
from dropscope.domain.models import Citation, Evidence, EvidenceKind, TokenState
from dropscope.domain.status import AirdropStatus

K = EvidenceKind
S = AirdropStatus
CITE = Citation("src", date(2024, 1, 1))
D0 = date(2024, 1, 1)


def ev(
    kind: EvidenceKind,
    on: date = D0,
    public: date | None = None,
    window_end: date | None = None,
    id: str | None = None,
) -> Evidence:
    return Evidence(
        id=id or f"{kind.value}-{on}",
        kind=kind,
        occurred_on=on,
        public_on=public or on,
        summary=kind.value,
        citation=CITE,
        window_end=window_end,
    )


@pytest.mark.parametrize(
    ("items", "status", "rule"),
    [
        ([], S.POSSIBLE, "tokenless_candidate"),
        ([ev(K.RUMOUR)], S.POSSIBLE, "rumour"),
        ([ev(K.POINTS_PROGRAM)], S.LIKELY, "incentive_program"),
        ([ev(K.INCENTIVISED_TESTNET)], S.LIKELY, "incentive_program"),
        ([ev(K.RUMOUR), ev(K.ANNOUNCEMENT)], S.CONFIRMED, "announced"),
        ([ev(K.ANNOUNCEMENT), ev(K.SNAPSHOT)], S.SNAPSHOT_TAKEN, "snapshot_taken"),
        ([ev(K.SNAPSHOT), ev(K.CLAIM_OPEN)], S.CLAIMABLE, "claim_open"),
        ([ev(K.CLAIM_OPEN), ev(K.CLAIM_ENDED)], S.DISTRIBUTED, "claim_ended"),
        ([ev(K.TOKEN_LAUNCHED)], S.RULED_OUT, "token_live_no_airdrop"),
        (
            [ev(K.RUMOUR), ev(K.TOKEN_LAUNCHED, D0 + timedelta(1))],
            S.RULED_OUT,
            "token_live_no_airdrop",
        ),
        ([ev(K.TOKEN_LAUNCHED), ev(K.RUMOUR, D0 + timedelta(1))], S.POSSIBLE, "rumour"),
        ([ev(K.POINTS_PROGRAM), ev(K.RULED_OUT, D0 + timedelta(1))], S.RULED_OUT, "ruled_out"),
    ],
)
def test_rules(items: list[Evidence], status: AirdropStatus, rule: str) -> None:
    c = classify(items, date(2030, 1, 1))
    assert (c.status, c.rule) == (status, rule)
    assert c.explanation


def test_rests_on_the_evidence_that_fired() -> None:
    items = [ev(K.RUMOUR, id="r"), ev(K.POINTS_PROGRAM, id="p"), ev(K.ANNOUNCEMENT, id="a")]
    c = classify(items, date(2030, 1, 1))
    assert c.evidence_ids == ("a",)


def test_claim_window_that_ended_is_distributed() -> None:
    claim = ev(K.CLAIM_OPEN, date(2024, 2, 20), window_end=date(2024, 6, 20))
    assert classify([claim], date(2024, 6, 20)).status is S.CLAIMABLE
    after = classify([claim], date(2024, 6, 21))
    assert after.status is S.DISTRIBUTED
    assert after.rule == "claim_window_closed"


def test_evidence_counts_only_once_public_and_happened() -> None:
    snap = ev(K.SNAPSHOT, date(2023, 11, 15), public=date(2024, 2, 14))
    items = [ev(K.ANNOUNCEMENT, date(2023, 12, 15)), snap]
    assert classify(items, date(2024, 1, 5)).status is S.CONFIRMED
    assert classify(items, date(2024, 2, 14)).status is S.SNAPSHOT_TAKEN
    scheduled = ev(K.SNAPSHOT, date(2024, 3, 1), public=date(2024, 2, 1))
    assert classify([scheduled], date(2024, 2, 15)).status is S.POSSIBLE


def test_later_evidence_overrides_a_denial_below_snapshot() -> None:
    deny = ev(K.RULED_OUT, date(2024, 1, 1))
    later = ev(K.POINTS_PROGRAM, date(2024, 3, 1))
    assert classify([deny, later], date(2024, 4, 1)).status is S.LIKELY
    # a denial cannot undo a snapshot that was taken
    assert classify([ev(K.SNAPSHOT, D0), deny], date(2024, 4, 1)).status is S.SNAPSHOT_TAKEN


def test_token_state() -> None:
    items = [ev(K.TOKEN_LAUNCHED, date(2024, 6, 17)), ev(K.ANNOUNCEMENT)]
    assert classify(items, date(2024, 6, 16)).token_state is TokenState.NONE
    assert classify(items, date(2024, 6, 17)).token_state is TokenState.LIVE


def test_history_replays_in_date_order() -> None:
    items = [
        ev(K.ANNOUNCEMENT, date(2023, 12, 15)),
        ev(K.SNAPSHOT, date(2023, 11, 15), public=date(2024, 2, 14)),
        ev(K.CLAIM_OPEN, date(2024, 2, 20), window_end=date(2024, 6, 20)),
    ]
    h = status_history("starknet", items, date(2025, 1, 1))
    assert [(c.effective_on, c.old, c.new) for c in h] == [
        (date(2023, 12, 15), None, S.CONFIRMED),
        (date(2024, 2, 14), S.CONFIRMED, S.SNAPSHOT_TAKEN),
        (date(2024, 2, 20), S.SNAPSHOT_TAKEN, S.CLAIMABLE),
        (date(2024, 6, 21), S.CLAIMABLE, S.DISTRIBUTED),
    ]
    assert status_history("starknet", items, date(2024, 1, 5))[-1].new is S.CONFIRMED


# ---- properties -------------------------------------------------------------------------

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2027, 12, 31))
POSITIVE = [
    K.RUMOUR,
    K.POINTS_PROGRAM,
    K.INCENTIVISED_TESTNET,
    K.ANNOUNCEMENT,
    K.SNAPSHOT,
    K.CLAIM_OPEN,
    K.CLAIM_ENDED,
]


@st.composite
def evidence(draw: st.DrawFn, kinds: list[EvidenceKind] | None = None) -> Evidence:
    kind = draw(st.sampled_from(kinds or list(EvidenceKind)))
    on = draw(days)
    public = draw(st.one_of(st.just(on), days))
    end = (
        draw(st.one_of(st.none(), days.filter(lambda d: d >= on))) if kind is K.CLAIM_OPEN else None
    )
    return Evidence(
        id=draw(st.text("abcdef0123", min_size=1, max_size=6)),
        kind=kind,
        occurred_on=on,
        public_on=public,
        summary="x",
        citation=CITE,
        window_end=end,
    )


def unique_ids(items: list[Evidence]) -> list[Evidence]:
    return [
        Evidence(
            f"{i}-{e.id}",
            e.kind,
            e.occurred_on,
            e.public_on,
            e.summary,
            e.citation,
            e.official,
            e.window_end,
        )
        for i, e in enumerate(items)
    ]


@settings(max_examples=300)
@given(st.lists(evidence(), max_size=8), evidence(POSITIVE), days)
def test_adding_confirming_evidence_never_lowers_the_status(
    items: list[Evidence], extra: Evidence, at: date
) -> None:
    items = unique_ids(items)
    before = classify(items, at).status
    after = classify([*items, extra], at).status
    assert after.rank >= before.rank


@settings(max_examples=300)
@given(st.lists(evidence(), max_size=8), st.randoms(use_true_random=False), days)
def test_result_does_not_depend_on_evidence_order(
    items: list[Evidence], rnd: object, at: date
) -> None:
    items = unique_ids(items)
    shuffled = list(items)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = classify(items, at), classify(shuffled, at)
    assert (a.status, a.rule, a.evidence_ids) == (b.status, b.rule, b.evidence_ids)


@settings(max_examples=300)
@given(st.lists(evidence(), max_size=8), days)
def test_launched_token_with_finished_claim_window_is_never_upcoming(
    items: list[Evidence], at: date
) -> None:
    items = unique_ids(items)
    finished = [
        e
        for e in items
        if e.kind is K.CLAIM_OPEN
        and e.window_end is not None
        and e.window_end < at
        and e.known_on <= at
    ]
    c = classify(items, at)
    if c.token_state is TokenState.LIVE and finished:
        assert not c.status.upcoming


@settings(max_examples=200)
@given(st.lists(evidence(), max_size=8), days)
def test_history_ends_in_the_status_of_the_day(items: list[Evidence], at: date) -> None:
    items = unique_ids(items)
    h = status_history("p", items, at)
    c = classify(items, at)
    if any(e.known_on <= at for e in items):
        assert h
        assert h[-1].new is c.status
    for prev, nxt in itertools.pairwise(h):
        assert prev.effective_on < nxt.effective_on
        assert prev.new is nxt.old


@given(st.lists(evidence(), max_size=8), days)
def test_only_evidence_known_by_then_is_used(items: list[Evidence], at: date) -> None:
    items = unique_ids(items)
    known = [e for e in items if e.occurred_on <= at and e.public_on <= at]
    assert classify(items, at).status is classify(known, at).status


@pytest.mark.parametrize(
    ("items", "headline"),
    [
        ([ev(K.ANNOUNCEMENT, date(2023, 12, 15))], "announced 2023-12-15"),
        ([ev(K.CLAIM_OPEN, D0, window_end=date(2024, 6, 20))], "claim open until 2024-06-20"),
        ([ev(K.CLAIM_OPEN, D0, window_end=date(2024, 2, 1))], "claim closed 2024-02-01"),
        ([ev(K.CLAIM_OPEN, D0)], "claim open 2024-01-01"),
        ([ev(K.TOKEN_LAUNCHED, D0)], "token live 2024-01-01, no airdrop"),
        ([], "no token yet"),
    ],
)
def test_headline_names_what_and_when(items: list[Evidence], headline: str) -> None:
    assert classify(items, date(2024, 3, 1)).headline == headline
