"""Structured questions: recognise the ones the database answers exactly.

"Which likely airdrops have a tech score above 88?", "Which confirmed airdrops have the
highest tech score?", "Who invested in Movement?", "Which projects did Paradigm back?".
Parsing only: the service answers them through the board and research services. Anything
not recognised here goes to retrieval.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from dropscope.domain.status import AirdropStatus


@dataclass(frozen=True, slots=True)
class BoardQuestion:
    """Projects filtered by status and score, sorted by a score."""

    statuses: tuple[AirdropStatus, ...]
    score: str = "tech"  # tech | fundamentals
    threshold: float | None = None
    strict: bool = True  # "above" (>) or "at least" (>=)
    below: bool = False  # "below" / "under"
    highest: bool = False
    lowest: bool = False
    at: date | None = None


@dataclass(frozen=True, slots=True)
class InvestorsOf:
    project: str
    at: date | None = None


@dataclass(frozen=True, slots=True)
class PortfolioOf:
    investor: str
    at: date | None = None


Intent = BoardQuestion | InvestorsOf | PortfolioOf

_STATUS_WORDS = {
    "confirmed": AirdropStatus.CONFIRMED,
    "likely": AirdropStatus.LIKELY,
    "possible": AirdropStatus.POSSIBLE,
    "claimable": AirdropStatus.CLAIMABLE,
    "distributed": AirdropStatus.DISTRIBUTED,
    "ruled out": AirdropStatus.RULED_OUT,
}
_AS_OF = re.compile(r"\b(?:as of|on)\s+(\d{4}-\d{2}-\d{2})\b")
_THRESHOLD = re.compile(
    r"(above|over|greater than|more than|higher than|at least|below|under|less than|lower than"
    r"|>=|>|<)\s*(\d+(?:\.\d+)?)\s*%?"
)
_INVESTORS_OF = [
    re.compile(r"^who (?:has |have )?(?:invested|invests|backed|backs|funded|funds) (?:in )?(.+)$"),
    re.compile(
        r"^(?:who|what|which) (?:are|were) (?:the )?(?:investors|backers) (?:in|of|behind) (.+)$"
    ),
    re.compile(r"^(?:list |show )?(?:the )?(?:investors|backers) (?:in|of|behind) (.+)$"),
    re.compile(
        r"^(?:which|what) (?:investors|funds|vcs) (?:back|backed|fund|funded|invested in) (.+)$"
    ),
    re.compile(r"^who (?:are|were) (.+?)'s? (?:investors|backers)$"),
]
_BACKED = r"(?:invest(?:ed)? in|back(?:ed)?|fund(?:ed)?)"
_PORTFOLIO_OF = [
    re.compile(rf"^(?:which|what) projects? (?:did|does|has) (.+?) {_BACKED}$"),
    re.compile(rf"^what (?:did|does|has) (.+?) {_BACKED}$"),
    re.compile(r"^(?:what is|what's|show) (.+?)'s? portfolio$"),
]


def _clean(question: str) -> tuple[str, date | None]:
    q = " ".join(question.lower().replace("’", "'").split()).rstrip("?.! ")
    at = None
    m = _AS_OF.search(q)
    if m:
        try:
            at = date.fromisoformat(m.group(1))
        except ValueError:
            at = None
        q = (q[: m.start()] + q[m.end() :]).strip(" ,")
    return q, at


def parse(question: str) -> Intent | None:
    """The structured reading of `question`, or None when retrieval should answer it."""
    q, at = _clean(question)
    for pattern in _INVESTORS_OF:
        m = pattern.match(q)
        if m:
            return InvestorsOf(m.group(1).strip(), at)
    for pattern in _PORTFOLIO_OF:
        m = pattern.match(q)
        if m:
            return PortfolioOf(m.group(1).strip(), at)
    statuses = tuple(s for w, s in _STATUS_WORDS.items() if re.search(rf"\b{w}\b", q))
    about_board = re.search(r"\b(airdrops?|projects?)\b", q) and re.match(
        r"^(which|what|list|show|name)\b", q
    )
    if not about_board:
        return None
    score = "fundamentals" if "fundamental" in q else "tech"
    has_score = "score" in q or "tech" in q or "fundamental" in q
    m = _THRESHOLD.search(q)
    highest = bool(re.search(r"\b(highest|best|top|strongest)\b", q))
    lowest = bool(re.search(r"\b(lowest|worst|weakest)\b", q))
    if has_score and (m or highest or lowest):
        word = m.group(1) if m else ""
        return BoardQuestion(
            statuses=statuses,
            score=score,
            threshold=float(m.group(2)) if m else None,
            strict=word not in ("at least", ">="),
            below=word in ("below", "under", "less than", "lower than", "<"),
            highest=highest,
            lowest=lowest,
            at=at,
        )
    if statuses and not has_score:
        return BoardQuestion(statuses=statuses, at=at)
    return None
