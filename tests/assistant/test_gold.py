"""Measured quality on the gold set (tests/gold/qa.jsonl): retrieval recall@5 and MRR, and
the citation precision and recall of the default (extractive) generator.

Floors are set a little under the figures measured when the set was written (hybrid:
recall@5 0.992, MRR 0.988; citations: precision 0.959, recall 0.786 — docs/assistant.md).
Retrieval metrics count only the questions answered by retrieval; structured questions
(answered from the database) count for citations.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dropscope.assistant.documents import doc_id_of
from dropscope.services.assistant import Assistant
from dropscope.services.database import Database
from tests.assistant.support import loaded_database, make_assistant

GOLD = Path(__file__).resolve().parents[1] / "gold" / "qa.jsonl"
FLOORS = {"recall@5": 0.95, "mrr": 0.9, "citation_precision": 0.9, "citation_recall": 0.7}


@dataclass(frozen=True)
class Scores:
    recall_at_5: float
    mrr: float
    citation_precision: float
    citation_recall: float


def gold() -> list[dict[str, object]]:
    return [json.loads(line) for line in GOLD.read_text().splitlines() if line.strip()]


def measure(assistant: Assistant) -> Scores:
    rows = gold()
    recall = mrr = precision = cite_recall = 0.0
    retrieval = answered = 0
    for row in rows:
        relevant = set(row["relevant"])  # type: ignore[call-overload]
        question = str(row["question"])
        if not row["structured"]:
            hits = assistant.search(question, 20)
            docs = list(dict.fromkeys(doc_id_of(h.id) for h in hits))
            recall += len(relevant & set(docs[:5])) / len(relevant)
            mrr += next((1 / (i + 1) for i, d in enumerate(docs) if d in relevant), 0.0)
            retrieval += 1
        cited = {doc_id_of(c.id) for c in assistant.ask(question).citations}
        if cited:
            precision += len(cited & relevant) / len(cited)
            answered += 1
        cite_recall += len(cited & relevant) / len(relevant)
    return Scores(
        recall / retrieval, mrr / retrieval, precision / answered, cite_recall / len(rows)
    )


@pytest.fixture(scope="module")
def loaded_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    with loaded_database("sqlite", tmp_path_factory.mktemp("gold")) as db:
        yield db


def test_gold_set_is_well_formed(loaded_db: Database, request: pytest.FixtureRequest) -> None:
    rows = gold()
    assert len(rows) >= 40
    assert len({r["question"] for r in rows}) == len(rows)
    known = {d.id for d in make_assistant(loaded_db, request.config).refreshed_documents()}
    for r in rows:
        assert set(r["relevant"]) <= known, r  # type: ignore[call-overload]


@pytest.mark.parametrize("dense", [True, False], ids=["hybrid", "bm25-only"])
def test_quality_floors(loaded_db: Database, request: pytest.FixtureRequest, dense: bool) -> None:
    scores = measure(make_assistant(loaded_db, request.config, dense=dense))
    print(f"\ngold ({'hybrid' if dense else 'bm25'}): {scores}")
    assert scores.recall_at_5 >= FLOORS["recall@5"]
    assert scores.mrr >= FLOORS["mrr"]
    assert scores.citation_precision >= FLOORS["citation_precision"]
    assert scores.citation_recall >= FLOORS["citation_recall"]
