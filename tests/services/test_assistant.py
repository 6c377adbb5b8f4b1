"""The assistant service interface: search, fetch, ask, ask_stream, over a loaded database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dropscope.assistant.generate import NOT_ADVICE
from dropscope.errors import InvalidInput, NotFound
from dropscope.services import assistant as svc
from dropscope.services.assistant import Assistant
from dropscope.services.database import Database
from tests.assistant.support import loaded_database, make_assistant


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def loaded_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    with loaded_database(request.param, tmp_path_factory.mktemp("db")) as db:
        yield db


@pytest.fixture(scope="module")
def assistant(loaded_db: Database, request: pytest.FixtureRequest) -> Assistant:
    return make_assistant(loaded_db, request.config)


def test_search_returns_hits_with_uris(assistant: Assistant) -> None:
    hits = svc.search(assistant, "Solana virtual machine on Ethereum layer 2", limit=5)
    assert 1 <= len(hits) <= 5
    assert hits[0].id.startswith(("project://eclipse", "note://eclipse"))
    assert all(h.url == h.id and h.title and h.text for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_fetch_document_and_chunk(assistant: Assistant) -> None:
    doc = svc.fetch(assistant, "project://starknet")
    assert doc.title.startswith("Starknet")
    assert "tm-upcoming-airdrops" in doc.metadata["sources"]
    assert "92" in doc.text
    with pytest.raises(NotFound):
        svc.fetch(assistant, "project://nope")


def test_bad_input_is_refused_before_streaming(assistant: Assistant) -> None:
    with pytest.raises(InvalidInput):
        svc.ask_stream(assistant, "   ")
    with pytest.raises(InvalidInput):
        svc.search(assistant, "x" * 5000)
    with pytest.raises(InvalidInput):
        svc.search(assistant, "starknet", limit=0)


def test_structured_question_from_the_board(assistant: Assistant) -> None:
    ans = svc.ask(assistant, "Which confirmed airdrops have the highest tech score?")
    assert ans.mode == "structured"
    assert "Taiko" in ans.text.split("In order")[0]
    assert [c.id for c in ans.citations] == [
        "project://taiko",
        "project://peaq",
        "project://dymension",
    ]
    assert ans.text.endswith(NOT_ADVICE)


def test_who_invested(assistant: Assistant) -> None:
    ans = svc.ask(assistant, "Who invested in Movement?")
    assert "Borderless Capital" in ans.text
    assert "Token Metrics Ventures" in ans.text
    assert [c.id for c in ans.citations] == ["project://movement"]


def test_stream_events_in_order(assistant: Assistant) -> None:
    events = list(svc.ask_stream(assistant, "What is Starknet's valuation?"))
    kinds = [e.event for e in events]
    assert kinds[0] == "citations"
    assert kinds[-1] == "done"
    assert "delta" in kinds
    done = events[-1].data
    assert "".join(e.data["text"] for e in events if e.event == "delta").strip() == done["text"]
    assert "8 billion" in done["text"]
    assert done["citations"]


def test_unknown_answer_says_so(assistant: Assistant) -> None:
    ans = svc.ask(assistant, "What is the boiling point of liquid nitrogen?")
    assert ans.text.startswith("I don't know from the data")
    assert ans.citations == ()
    assert ans.text.endswith(NOT_ADVICE)
