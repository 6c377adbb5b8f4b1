"""Recognising the questions the database answers exactly."""

from __future__ import annotations

from datetime import date

import pytest

from dropscope.assistant.intents import BoardQuestion, InvestorsOf, PortfolioOf, parse
from dropscope.domain.status import AirdropStatus as S


def test_board_questions() -> None:
    q = parse("Which likely airdrops have a tech score above 88?")
    assert q == BoardQuestion(statuses=(S.LIKELY,), threshold=88.0, strict=True)
    q = parse("Which confirmed airdrops have the highest tech score?")
    assert isinstance(q, BoardQuestion)
    assert q.highest
    assert q.statuses == (S.CONFIRMED,)
    q = parse("which possible airdrops have a fundamentals score of at least 60 as of 2024-01-01")
    assert isinstance(q, BoardQuestion)
    assert (q.score, q.threshold, q.strict, q.at) == ("fundamentals", 60.0, False, date(2024, 1, 1))
    assert parse("List the likely airdrops") == BoardQuestion(statuses=(S.LIKELY,))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who invested in Movement?", InvestorsOf("movement")),
        ("who backs Taiko", InvestorsOf("taiko")),
        ("Which investors back Starknet?", InvestorsOf("starknet")),
        ("Who are the investors in Scroll?", InvestorsOf("scroll")),
        ("Which projects did Paradigm back?", PortfolioOf("paradigm")),
        ("What did Tribe Capital invest in?", PortfolioOf("tribe capital")),
    ],
)
def test_who_questions(question: str, expected: object) -> None:
    assert parse(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "What is Starknet's valuation?",
        "How much did Arbitrum distribute?",
        "Is Linea from ConsenSys?",
        "What tech score did Token Metrics give Starknet?",
    ],
)
def test_other_questions_go_to_retrieval(question: str) -> None:
    assert parse(question) is None
