"""The Ask page's data: the question read from the URL, the answer cut into text and [n]
markers (so the template escapes every piece; nothing is marked safe), and each cited
document's dashboard page.

The assistant's ids are URIs (services/assistant.py): `project://starknet`,
`investor://paradigm`, `airdrop://arbitrum`, `note://starknet` (chunks `note://starknet#2`).
Their pages here: the project, the investor, the past-airdrop row on /history, and the
project a research note is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams

from dropscope.errors import InvalidInput
from dropscope.services.assistant import Answer, Citation
from dropscope.web.query import CONTROL

MAX_QUESTION = 500  # the page's bound (the API allows more; a question box needs less)
EXAMPLES: tuple[str, ...] = (
    "Which confirmed airdrops have the highest tech score?",
    "Who invested in Movement?",
    "Which likely airdrops have a tech score above 88?",
    "Which projects did Paradigm back?",
    "How many wallets received the ZK airdrop?",
    "What is Starknet's airdrop status and why?",
)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
_MARKER = re.compile(r"\[(\d{1,3})\]")
_PAGES = {"project": "/projects/{}", "investor": "/investors/{}", "note": "/projects/{}"}


def question_of(params: QueryParams) -> str:
    """The `q` parameter stripped: "" when absent; InvalidInput when blank or too long."""
    if "q" not in params:
        return ""
    q = params["q"].strip()
    if not q:
        raise InvalidInput("type a question first")
    if CONTROL.search(q):
        raise InvalidInput("a question may not contain control characters")
    if len(q) > MAX_QUESTION:
        raise InvalidInput(
            f"that question is {len(q)} characters long; ask in at most {MAX_QUESTION}"
        )
    return q


def citation_href(doc_id: str) -> str | None:
    """The dashboard page of a cited document, or None for an id of no known kind."""
    scheme, sep, rest = doc_id.partition("://")
    slug = rest.split("#", 1)[0]
    if not sep or not _SLUG.match(slug):
        return None
    if scheme == "airdrop":
        return f"/history#airdrop-{slug}"
    page = _PAGES.get(scheme)
    return page.format(slug) if page else None


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of answer text, or (`n` set) a citation marker."""

    text: str
    n: int | None = None


@dataclass(frozen=True, slots=True)
class CitedLink:
    n: int
    title: str
    href: str | None
    quote: str
    id: str


@dataclass(frozen=True, slots=True)
class AnswerView:
    question: str
    paragraphs: list[list[list[Piece]]]  # paragraph → lines → pieces
    citations: list[CitedLink]
    mode: str
    generator: str


def pieces(line: str, known: set[int]) -> list[Piece]:
    """`line` cut at its [n] markers; a marker of no known citation stays plain text."""
    out: list[Piece] = []
    at = 0
    for m in _MARKER.finditer(line):
        n = int(m.group(1))
        if n not in known:
            continue
        if m.start() > at:
            out.append(Piece(line[at : m.start()]))
        out.append(Piece(m.group(0), n))
        at = m.end()
    if at < len(line):
        out.append(Piece(line[at:]))
    return out


def answer_view(answer: Answer) -> AnswerView:
    known = {c.n for c in answer.citations}
    paragraphs = [
        [pieces(line, known) for line in block.split("\n") if line.strip()]
        for block in re.split(r"\n\s*\n", answer.text.strip())
        if block.strip()
    ]
    return AnswerView(
        question=answer.question,
        paragraphs=paragraphs,
        citations=[cited_link(c) for c in answer.citations],
        mode=answer.mode,
        generator=answer.generator,
    )


def cited_link(c: Citation) -> CitedLink:
    return CitedLink(c.n, c.title, citation_href(c.id), c.quote, c.id)


def with_href(citation: dict[str, Any]) -> dict[str, Any]:
    """A streamed citation (the API's fields) plus `href`, its dashboard page (or null)."""
    return {**citation, "href": citation_href(str(citation.get("id", "")))}
