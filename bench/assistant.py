"""Benchmark: assistant retrieval latency, index build time and memory.

Two corpora, measured in one run:
- the real corpus: the cards rendered from the curated data plus data/notes (loaded into a
  temporary SQLite database), searched with the gold-set questions (tests/gold/qa.jsonl);
- a synthetic corpus of 100,000 chunks (60 words each, Zipf-distributed over a 30,000-word
  vocabulary mixed with the real corpus's words). Its dense vectors are random unit vectors:
  embedding 100,000 chunks with the numpy MiniLM would take hours on this machine and the
  search cost does not depend on the values. Query embedding uses the real model.

Printed: index build time, resident memory added by the index, p50/p99 of one hybrid search
(query embedding + BM25 + dense dot product + fusion), of BM25 alone, and of the peer
`bm25s` (retrieve top 50 on the same synthetic corpus, if installed), with the ratio of the
p50 to the 50 ms ceiling (ratio < 1 meets it).

Run: `.venv/bin/python bench/assistant.py` (`make bench` runs it too).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from dropscope.assistant.bm25 import BM25
from dropscope.assistant.documents import Document
from dropscope.assistant.embed import DIM, load_embedder
from dropscope.assistant.index import CorpusIndex
from dropscope.assistant.text import terms
from dropscope.services import data as data_service
from dropscope.services.assistant import Assistant
from dropscope.services.database import Database

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
GOLD = ROOT / "tests" / "gold" / "qa.jsonl"
CEILING_MS = 50.0
SYNTHETIC = 100_000
WORDS_PER_CHUNK = 60


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def timed(fn, queries: list[str], rounds: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    for q in queries[:5]:
        fn(q)  # warm up
    samples = []
    for _ in range(rounds):
        for q in queries:
            t0 = time.perf_counter()
            fn(q)
            samples.append((time.perf_counter() - t0) * 1000)
    return percentiles(samples)


def line(label: str, p50: float, p99: float) -> None:
    print(
        f"  {label:<44} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   p50/ceiling {p50 / CEILING_MS:5.2f}"
    )


def real_corpus(questions: list[str]) -> list[Document]:
    print("Real corpus (curated data + notes)")
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.ensure_schema()
        data_service.load(db, DATA, datetime.now(UTC))
        for label, cache in (
            ("cold (embeds every chunk)", None),
            ("warm (vectors cached)", Path(tmp) / "cache"),
        ):
            if cache is not None:  # fill the cache once, then time a fresh process-like build
                Assistant(db, data_dir=DATA, cache_dir=cache).refresh()
            before = rss_mb()
            a = Assistant(db, data_dir=DATA, cache_dir=cache)
            t0 = time.perf_counter()
            report = a.refresh()
            build = time.perf_counter() - t0
            assert report is not None
            print(
                f"  build, {label:<26} {build:7.2f} s   {report.documents} documents, "
                f"{report.chunks} chunks, {report.embedded_chunks} embedded, "
                f"+{rss_mb() - before:.0f} MB RSS (model included)"
            )
        line(
            "hybrid search (BM25 + MiniLM, RRF), top 10",
            *timed(lambda q: a.index.search(q, 10), questions, 20),
        )
        bm25_only = Assistant(db, data_dir=DATA, dense=False)
        bm25_only.refresh()
        line("BM25 alone, top 10", *timed(lambda q: bm25_only.index.search(q, 10), questions, 20))
        line("ask (extractive), end to end", *timed(a.ask, questions, 3))
        docs = a.index.documents()
        db.close()
        return docs


def synthetic_texts(seed_docs: list[Document]) -> list[str]:
    rng = np.random.default_rng(7)
    real = sorted({w for d in seed_docs for w in d.text.split() if w.isalpha()})
    vocab = np.array(real + [f"w{i}" for i in range(30_000)])
    ranks = np.arange(1, len(vocab) + 1)
    probs = (1.0 / ranks) / (1.0 / ranks).sum()
    order = rng.permutation(len(vocab))  # real words spread over the Zipf ranks
    picks = rng.choice(len(vocab), size=(SYNTHETIC, WORDS_PER_CHUNK), p=probs)
    words = vocab[order][picks]
    return [" ".join(row) for row in words]


def synthetic(questions: list[str], seed_docs: list[Document]) -> None:
    print(f"Synthetic corpus ({SYNTHETIC:,} chunks of {WORDS_PER_CHUNK} words)")
    texts = synthetic_texts(seed_docs)
    docs = [Document(f"synthetic://{i}", f"chunk {i}", t, "synthetic") for i, t in enumerate(texts)]
    embedder = load_embedder()
    before = rss_mb()
    index = CorpusIndex(embedder)
    if embedder is not None:
        rng = np.random.default_rng(11)
        from dropscope.assistant.documents import chunk

        digests = [chunk(d)[0].digest for d in docs]
        vecs = rng.standard_normal((len(docs), DIM)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        index.add_vectors(dict(zip(digests, vecs, strict=True)))
    t0 = time.perf_counter()
    index.update(docs)
    build = time.perf_counter() - t0
    print(
        f"  build (chunk, BM25, stack vectors)            {build:7.2f} s   "
        f"+{rss_mb() - before:.0f} MB RSS"
    )
    mode = "hybrid search (BM25 + MiniLM, RRF)" if index.dense else "BM25 search (no model)"
    line(f"{mode}, top 10", *timed(lambda q: index.search(q, 10), questions, 3))
    if embedder is not None:
        line(
            "  of which: query embedding (cached LRU off)",
            *timed(lambda q: embedder.encode([q]), questions, 3),
        )
    t0 = time.perf_counter()
    bm = BM25([terms(t) for t in texts])
    print(f"  our BM25 build alone                          {time.perf_counter() - t0:7.2f} s")
    line("our BM25 alone, top 50", *timed(lambda q: bm.top(q, 50), questions, 3))
    try:
        import bm25s
    except ImportError:
        print("  (bm25s not installed: pip install -e '.[bench]' for the peer)")
        return
    t0 = time.perf_counter()
    tokens = bm25s.tokenize(texts, stopwords="en", show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    print(f"  peer bm25s build                              {time.perf_counter() - t0:7.2f} s")

    def peer(q: str) -> None:
        qt = bm25s.tokenize([q], stopwords="en", show_progress=False)
        retriever.retrieve(qt, k=50, show_progress=False)

    line("peer bm25s retrieve, top 50", *timed(peer, questions, 3))


def main() -> None:
    questions = [json.loads(x)["question"] for x in GOLD.read_text().splitlines() if x.strip()]
    docs = real_corpus(questions)
    synthetic(questions, docs)


if __name__ == "__main__":
    main()
