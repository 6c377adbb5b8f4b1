"""Structured questions answered from the database, through the board and research services.

`assistant.intents.parse` recognises the question; this module asks `services.board` or
`services.research` (the same functions the API uses) and writes a short answer whose `[n]`
markers cite the rendered cards of the projects or investor it names.
"""

from __future__ import annotations

from datetime import date

from dropscope.assistant.documents import Document
from dropscope.assistant.generate import Source
from dropscope.assistant.index import CorpusIndex
from dropscope.assistant.intents import BoardQuestion, Intent, InvestorsOf, PortfolioOf
from dropscope.domain.assess import Assessment, AssessParams
from dropscope.errors import NotFound
from dropscope.services.board import BoardQuery, board
from dropscope.services.database import UnitOfWork
from dropscope.services.research import investors, profile

Structured = tuple[str, list[Source]]
TOP = 3


class _Sources:
    """Numbers cards in the order they are first cited."""

    def __init__(self, index: CorpusIndex) -> None:
        self.index = index
        self.items: list[Source] = []

    def ref(self, doc_id: str, focus: str = "") -> str:
        """The marker of `doc_id`'s card; its passage is the card's lines that contain
        `focus` (so the citation quotes the fact used), or the whole card."""
        for s in self.items:
            if s.id == doc_id:
                return f"[{s.n}]"
        doc: Document | None = self.index.document(doc_id)
        if doc is None:
            return ""
        lines = [ln for ln in doc.text.splitlines() if focus and focus in ln.lower()]
        n = len(self.items) + 1
        self.items.append(Source(n, doc.id, doc.title, doc.url, "\n".join(lines) or doc.text))
        return f"[{n}]"


def _names(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _score(a: Assessment, kind: str) -> float | None:
    s = a.tech if kind == "tech" else a.fundamentals
    return s.value if s else None


def _board(
    uow: UnitOfWork, q: BoardQuestion, at: date, params: AssessParams | None, refs: _Sources
) -> Structured:
    desc = not q.lowest
    sort = f"{'-' if desc else ''}{q.score},name"
    entries = list(board(uow, at, BoardQuery(statuses=q.statuses, sort=sort), params).entries)
    if q.threshold is not None:
        t = q.threshold

        def keep(a: Assessment) -> bool:
            v = _score(a, q.score)
            if v is None:
                return False
            if q.below:
                return v < t if q.strict else v <= t
            return v > t if q.strict else v >= t

        entries = [a for a in entries if keep(a)]
    elif q.highest or q.lowest:
        entries = [a for a in entries if _score(a, q.score) is not None]
        top = _score(entries[0], q.score) if entries else None
        # the best three (and any tied with the best): "highest" is not "all, in order"
        entries = [a for i, a in enumerate(entries) if i < TOP or _score(a, q.score) == top]
    status = _names([s.label for s in q.statuses]) or "listed"
    what = f"{status} airdrops"
    cond = ""
    if q.threshold is not None:
        rel = (
            ("below" if q.strict else "at most")
            if q.below
            else ("above" if q.strict else "at least")
        )
        cond = f" with a {q.score} score {rel} {q.threshold:g}"
    if not entries:
        return f"As of {at}, no {what}{cond} are in dropscope's data.", []
    items = []
    for a in entries:
        v = _score(a, q.score)
        shown = f"{q.score} {v:g}" if v is not None else f"no {q.score} score"
        marker = refs.ref(f"project://{a.project.slug}", f"{q.score} score")
        items.append(f"{a.project.name} ({shown}, {a.status.label}) {marker}")
    if q.highest or q.lowest:
        best = entries[0]
        top = _score(best, q.score)
        tied = [a.project.name for a in entries if _score(a, q.score) == top]
        word = "highest" if q.highest else "lowest"
        lead = (
            f"As of {at}, among {what}{cond}, the {word} {q.score} score is {top:g}: "
            f"{_names(tied)}."
        )
        return f"{lead} In order: {'; '.join(items)}.", refs.items
    return f"As of {at}, {len(entries)} {what}{cond}: {'; '.join(items)}.", refs.items


def _investors_of(
    uow: UnitOfWork, q: InvestorsOf, at: date, params: AssessParams | None, refs: _Sources
) -> Structured | None:
    try:
        prof = profile(uow, q.project, at, params)
    except NotFound:
        return None
    p = prof.assessment.project
    ref = refs.ref(f"project://{p.slug}", "investors")
    if not p.funding_rounds:
        return f"dropscope records no investors in {p.name} {ref}.", refs.items
    parts = []
    for r in p.funding_rounds:
        names = [prof.investors[s].name if s in prof.investors else s for s in r.investors]
        lead = [prof.investors[s].name if s in prof.investors else s for s in r.lead_investors]
        label = "in total" if r.round == "total" else f"{r.round} round"
        led = f", led by {_names(lead)}" if lead else ""
        parts.append(
            f"{_names(names) or 'unnamed investors'} ({label}{led}, as of "
            f"{r.citation.as_of}, source {r.citation.source_id})"
        )
    return f"Investors in {p.name}: {'; '.join(parts)} {ref}.", refs.items


def _portfolio_of(
    uow: UnitOfWork, q: PortfolioOf, at: date, params: AssessParams | None, refs: _Sources
) -> Structured | None:
    try:
        (view,) = investors(uow, at, q.investor, params)[:1]
    except (NotFound, ValueError):
        return None
    inv = view.investor
    ref = refs.ref(f"investor://{inv.slug}", "invested in")
    if not view.portfolio:
        return f"{inv.name} backs no project dropscope researches {ref}.", refs.items
    backed = [f"{b.project_name} ({b.status.label})" for b in view.portfolio]
    return (
        f"As of {at}, {inv.name} backs {len(backed)} researched project(s): "
        f"{_names(backed)} {ref}.",
        refs.items,
    )


def answer_structured(
    uow: UnitOfWork,
    intent: Intent,
    today: date,
    params: AssessParams | None,
    index: CorpusIndex,
) -> Structured | None:
    """The answer text (with `[n]` markers) and its numbered sources, or None when the
    question names nothing in the database (retrieval answers it then)."""
    refs = _Sources(index)
    at = intent.at or today
    if isinstance(intent, BoardQuestion):
        return _board(uow, intent, at, params, refs)
    if isinstance(intent, InvestorsOf):
        return _investors_of(uow, intent, at, params, refs)
    return _portfolio_of(uow, intent, at, params, refs)
