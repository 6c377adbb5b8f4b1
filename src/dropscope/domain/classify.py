"""Airdrop status from dated evidence: `classify` at a moment, `status_history` over time.

The status is never typed in: it is a pure function of the evidence known on a date. Rules,
checked in this order (the first that fires wins):

====================  ==================================================================
rule                  fires when (using only evidence known on `at`)
====================  ==================================================================
claim_ended           a `claim_ended` item exists                         → distributed
claim_window_closed   a `claim_open` item's `window_end` is before `at`   → distributed
claim_open            a `claim_open` item exists (window open / unknown)  → claimable
snapshot_taken        a `snapshot` item exists                            → snapshot_taken
ruled_out             a `ruled_out` item is dated on or after every item
                      of the stages below (announcement, programme, rumour) → ruled_out
announced             an `announcement` item exists                       → confirmed
incentive_program     a `points_program` or `incentivised_testnet` exists → likely
token_live_no_airdrop the token launched, and nothing above exists except
                      rumours known on or before the launch              → ruled_out
rumour                a `rumour` item exists                              → possible
tokenless_candidate   nothing above: a project without a token            → possible
====================  ==================================================================

Evidence is *known* on `at` when both its `occurred_on` and `public_on` are on or before
`at`. Stages from a snapshot on are facts that a later denial cannot undo; below that, the
most recent of a denial and the positive evidence wins. The result does not depend on the
order evidence is given in: ties are broken by evidence id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from dropscope.domain.models import Evidence, EvidenceKind, TokenState
from dropscope.domain.status import AirdropStatus, StatusChange

_K = EvidenceKind


@dataclass(frozen=True, slots=True)
class Classification:
    """The status at `at`, the rule that fired, and the evidence it rests on."""

    status: AirdropStatus
    rule: str
    explanation: str
    rests_on: tuple[Evidence, ...]
    token_state: TokenState
    at: date

    @property
    def evidence_ids(self) -> tuple[str, ...]:
        return tuple(e.id for e in self.rests_on)

    @property
    def headline(self) -> str:
        """A few words for a table cell: what happened and when, e.g. "snapshot 2024-03-24"."""
        last = self.rests_on[-1] if self.rests_on else None
        when = f" {last.occurred_on}" if last else ""
        match self.rule:
            case "claim_window_closed":
                ends = [e.window_end for e in self.rests_on if e.window_end]
                return f"claim closed {max(ends)}" if ends else "claim closed"
            case "claim_open":
                ends = [e.window_end for e in self.rests_on if e.window_end]
                return f"claim open until {max(ends)}" if ends else f"claim open{when}"
            case "token_live_no_airdrop":
                return f"token live{when}, no airdrop"
            case _:
                return _HEADLINES.get(self.rule, self.rule) + when


_HEADLINES = {
    "claim_ended": "distributed",
    "snapshot_taken": "snapshot",
    "ruled_out": "ruled out",
    "announced": "announced",
    "incentive_program": "incentives",
    "rumour": "speculated",
    "tokenless_candidate": "no token yet",
}


def known_on(evidence: Iterable[Evidence], at: date) -> list[Evidence]:
    """Evidence usable on `at` (happened and public by then), oldest first, ties by id."""
    return sorted((e for e in evidence if e.known_on <= at), key=lambda e: (e.known_on, e.id))


def token_state(evidence: Iterable[Evidence], at: date) -> TokenState:
    """`live` once a `token_launched` item is known, else `none`."""
    launched = any(e.kind is _K.TOKEN_LAUNCHED for e in known_on(evidence, at))
    return TokenState.LIVE if launched else TokenState.NONE


def classify(evidence: Iterable[Evidence], at: date) -> Classification:
    """Derive the airdrop status on `at` from `evidence` (see the module docstring's rules)."""
    known = known_on(evidence, at)
    by_kind: dict[EvidenceKind, list[Evidence]] = {}
    for e in known:
        by_kind.setdefault(e.kind, []).append(e)
    token = TokenState.LIVE if _K.TOKEN_LAUNCHED in by_kind else TokenState.NONE

    def result(
        status: AirdropStatus, rule: str, why: str, items: Sequence[Evidence]
    ) -> Classification:
        return Classification(status, rule, why, tuple(items), token, at)

    if ended := by_kind.get(_K.CLAIM_ENDED):
        return result(
            AirdropStatus.DISTRIBUTED, "claim_ended", "the airdrop was distributed", ended
        )
    claims = by_kind.get(_K.CLAIM_OPEN, [])
    closed = [c for c in claims if c.window_end is not None and c.window_end < at]
    if closed:
        last = max(closed, key=lambda c: (c.window_end or at, c.id))
        return result(
            AirdropStatus.DISTRIBUTED,
            "claim_window_closed",
            f"the claim window closed on {last.window_end}",
            closed,
        )
    if claims:
        ends = [c.window_end for c in claims if c.window_end is not None]
        until = f" until {max(ends)}" if ends else ""
        return result(AirdropStatus.CLAIMABLE, "claim_open", f"claiming is open{until}", claims)
    if snaps := by_kind.get(_K.SNAPSHOT):
        return result(
            AirdropStatus.SNAPSHOT_TAKEN,
            "snapshot_taken",
            f"the eligibility snapshot was taken on {snaps[-1].occurred_on}",
            snaps,
        )
    positive = [
        e
        for k in (_K.ANNOUNCEMENT, _K.POINTS_PROGRAM, _K.INCENTIVISED_TESTNET, _K.RUMOUR)
        for e in by_kind.get(k, [])
    ]
    if denials := by_kind.get(_K.RULED_OUT):
        latest_denial = denials[-1]
        if all(p.known_on <= latest_denial.known_on for p in positive):
            return result(
                AirdropStatus.RULED_OUT,
                "ruled_out",
                f"an airdrop was ruled out on {latest_denial.occurred_on}",
                [latest_denial],
            )
    if announced := by_kind.get(_K.ANNOUNCEMENT):
        return result(
            AirdropStatus.CONFIRMED, "announced", "an airdrop has been announced", announced
        )
    programmes = by_kind.get(_K.POINTS_PROGRAM, []) + by_kind.get(_K.INCENTIVISED_TESTNET, [])
    if programmes:
        programmes.sort(key=lambda e: (e.known_on, e.id))
        return result(
            AirdropStatus.LIKELY,
            "incentive_program",
            "a points or incentive programme is running",
            programmes,
        )
    rumours = by_kind.get(_K.RUMOUR, [])
    if token is TokenState.LIVE:
        launched = by_kind[_K.TOKEN_LAUNCHED]
        if all(r.known_on <= launched[0].known_on for r in rumours):
            return result(
                AirdropStatus.RULED_OUT,
                "token_live_no_airdrop",
                f"the token launched on {launched[0].occurred_on} with no airdrop on record",
                launched,
            )
    if rumours:
        return result(
            AirdropStatus.POSSIBLE, "rumour", "an airdrop is speculated, not announced", rumours
        )
    return result(
        AirdropStatus.POSSIBLE,
        "tokenless_candidate",
        "no token yet: a candidate for an airdrop, with no evidence either way",
        [],
    )


def change_dates(evidence: Iterable[Evidence]) -> list[date]:
    """Every date on which the status can change: when evidence becomes known, and the day
    after a claim window ends."""
    days: set[date] = set()
    for e in evidence:
        days.add(e.known_on)
        if e.window_end is not None:
            days.add(max(e.known_on, e.window_end + timedelta(days=1)))
    return sorted(days)


def status_history(
    project_slug: str, evidence: Sequence[Evidence], until: date
) -> list[StatusChange]:
    """Replay the evidence in date order up to `until`: each change of status, oldest first.

    The first entry has `old=None`: the status on the day the first evidence became known.
    """
    changes: list[StatusChange] = []
    previous: AirdropStatus | None = None
    for day in change_dates(evidence):
        if day > until:
            break
        c = classify(evidence, day)
        if c.status != previous:
            changes.append(
                StatusChange(project_slug, day, previous, c.status, c.rule, c.evidence_ids)
            )
            previous = c.status
    return changes
