"""BM25, reciprocal-rank fusion, chunking and word splitting."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from dropscope.assistant.bm25 import BM25
from dropscope.assistant.documents import Document, chunk, doc_id_of
from dropscope.assistant.embed import DIM
from dropscope.assistant.fusion import rrf
from dropscope.assistant.index import VectorStore
from dropscope.assistant.text import sentences, terms


def test_bm25_ranks_by_term_rarity_and_frequency() -> None:
    index = BM25.from_texts(
        [
            "Starknet is a ZK rollup on Ethereum.",
            "Scroll is a zkEVM rollup on Ethereum.",
            "Parcl trades real estate.",
        ]
    )
    top = index.top("starknet rollup", 3)
    assert [i for i, _ in top] == [0, 1]  # Parcl matches nothing and is left out
    assert top[0][1] > top[1][1] > 0


def test_bm25_matches_the_textbook_formula() -> None:
    docs = [["a1", "b1"], ["a1", "a1", "c1"], ["c1"]]
    index = BM25(docs)
    avg = 2.0
    n, df = 3, 2
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    expected = idf * 2 * 2.2 / (2 + 1.2 * (1 - 0.75 + 0.75 * 3 / avg))
    assert math.isclose(float(index.scores(["a1"])[1]), expected, rel_tol=1e-6)
    assert index.term_idf("never-seen") > 0


def test_bm25_empty_and_unknown() -> None:
    assert BM25([]).top("anything", 5) == []
    assert BM25.from_texts(["alpha"]).top("beta", 5) == []


def test_rrf_weights_and_ranks() -> None:
    fused = rrf([(1.0, ["a", "b", "c"]), (0.5, ["c", "b"])], k=60)
    assert next(x for x, _ in fused) == "b"
    scores = dict(fused)
    assert math.isclose(scores["a"], 1 / 61)
    assert math.isclose(scores["b"], 1 / 62 + 0.5 / 62)
    assert math.isclose(scores["c"], 1 / 63 + 0.5 / 61)


def test_note_chunks_have_stable_section_ids() -> None:
    text = "# Starknet — note\n\nSources: tm\n\n## Overview\nA rollup.\n\n## Funding\nRaised."
    doc = Document("note://starknet", "Starknet — note", text, "note")
    parts = chunk(doc)
    assert [c.id for c in parts] == ["note://starknet#1", "note://starknet#2", "note://starknet#3"]
    assert parts[1].title == "Starknet — note — Overview"
    assert doc_id_of(parts[2].id) == "note://starknet"
    edited = Document(doc.id, doc.title, text.replace("Raised.", "Raised $100M."), "note")
    again = chunk(edited)
    assert [c.digest for c in again[:2]] == [c.digest for c in parts[:2]]
    assert again[2].digest != parts[2].digest


def test_cards_are_one_chunk_named_by_their_uri() -> None:
    doc = Document("project://taiko", "Taiko — project card", "Taiko is a zkEVM.", "project")
    (only,) = chunk(doc)
    assert only.id == "project://taiko" == only.url


def test_terms_fold_phrases_numbers_and_plurals() -> None:
    assert terms("Layer 2 virtual machine") == ["l2", "vm"]
    assert terms("raised $3.4 million from 1,000 investors") == [
        "rais",
        "3.4",
        "mill",
        "1000",
        "investor",
    ]
    assert terms("the distribution was distributed") == ["distribut", "distribut"]


def test_sentences_keep_lines_apart() -> None:
    text = "Snapshot on 2024-01-01.\nClaims opened. Trading began\n- a list item"
    assert sentences(text) == [
        "Snapshot on 2024-01-01.",
        "Claims opened.",
        "Trading began",
        "a list item",
    ]


def test_vector_store_round_trip_and_pruning(tmp_path: Path) -> None:
    store = VectorStore(tmp_path)
    store.vectors = {f"k{i}": np.full(DIM, i, dtype=np.float32) for i in range(3)}
    store.save()
    again = VectorStore(tmp_path)
    assert sorted(again.vectors) == ["k0", "k1", "k2"]
    assert float(again.vectors["k2"][0]) == 2.0
    assert not again.prune({"k0"})  # a few stale vectors are kept (shared caches)
    again.vectors |= {f"s{i}": np.zeros(DIM, dtype=np.float32) for i in range(1100)}
    assert again.prune({"k0"})
    assert list(again.vectors) == ["k0"]
    (tmp_path / VectorStore.FILE).write_bytes(b"not a numpy file")
    assert VectorStore(tmp_path).vectors == {}
