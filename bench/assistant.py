"""Benchmark: assistant retrieval latency, index build time and memory.

Two corpora, measured in one run:
- the real corpus: the cards rendered from the curated data plus data/notes (loaded into a
  temporary SQLite database), searched with the gold-set questions (tests/gold/qa.jsonl);
- a synthetic corpus of 100,000 chunks (60 words each, Zipf-distributed over a 30,000-word
  vocabulary mixed with the real corpus's words). Its dense vectors are random unit vectors:
  embedding 100,000 chunks with the numpy MiniLM would take hours on this machine and the
  search cost does not depend on the values. Queries are embedded by the real model.

Printed for each: index build time, resident memory added, and per search the wall-clock
p50/p99 and the CPU-time p50 (this process's own work: the machine's two cores are shared,
so wall-clock includes waiting for them), with the ratio of the wall-clock p50 to the 50 ms
ceiling (< 1 meets it). Peer: `bm25s` (tokenise + retrieve top 50) on the same synthetic
corpus, when installed (`pip install -e '.[bench]'`).

Run: `.venv/bin/python bench/assistant.py` (`make bench` runs it too).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from dropscope.assistant.bm25 import BM25
from dropscope.assistant.documents import Document, chunk
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


def load_avg() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def timed(fn: Callable[[str], object], queries: list[str], rounds: int) -> tuple[float, ...]:
    """Wall-clock p50 and p99, and CPU-time p50, in ms, of `fn(q)` over the queries."""
    for q in queries[:5]:
        fn(q)  # warm up
    wall, cpu = [], []
    for _ in range(rounds):
        for q in queries:
            t0, c0 = time.perf_counter(), time.process_time()
            fn(q)
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    wall.sort()
    p99 = wall[min(len(wall) - 1, round(0.99 * (len(wall) - 1)))]
    return statistics.median(wall), p99, statistics.median(cpu)


def report(label: str, figures: tuple[float, ...]) -> None:
    p50, p99, cpu = figures
    print(
        f"  {label:<46} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  cpu p50 {cpu:6.2f} ms  "
        f"p50/ceiling {p50 / CEILING_MS:5.2f}"
    )


def real_corpus(questions: list[str]) -> list[Document]:
    print("Real corpus (curated data + notes)")
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.ensure_schema()
        data_service.load(db, DATA, datetime.now(UTC))
        cache = Path(tmp) / "cache"
        for label in ("cold (embeds every chunk)", "warm (vectors cached on disk)"):
            before = rss_mb()
            a = Assistant(db, data_dir=DATA, cache_dir=cache)
            t0 = time.perf_counter()
            update = a.refresh()
            embedded = a.index.ensure_vectors()
            build = time.perf_counter() - t0
            assert update is not None
            print(
                f"  build, {label:<30} {build:7.2f} s  {update.documents} documents, "
                f"{update.chunks} chunks, {embedded} embedded, +{rss_mb() - before:.0f} MB RSS"
            )

        def hybrid(q: str) -> None:
            a.index.clear_query_cache()  # the query is embedded every time
            a.index.search(q, 10)

        def ask(q: str) -> None:
            a.index.clear_query_cache()
            a.ask(q)

        report("hybrid search (BM25 + MiniLM, RRF), top 10", timed(hybrid, questions, 5))
        report(
            "  same, query embedding cached (a repeat)",
            timed(lambda q: a.index.search(q, 10), questions, 5),
        )
        bm25_only = Assistant(db, data_dir=DATA, dense=False)
        bm25_only.refresh()
        report("BM25 alone, top 10", timed(lambda q: bm25_only.index.search(q, 10), questions, 20))
        report("ask (extractive), end to end", timed(ask, questions, 3))
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
    return [" ".join(row) for row in vocab[order][picks]]


def synthetic(questions: list[str], seed_docs: list[Document]) -> None:
    print(f"Synthetic corpus ({SYNTHETIC:,} chunks of {WORDS_PER_CHUNK} words)")
    texts = synthetic_texts(seed_docs)
    docs = [Document(f"synthetic://{i}", f"chunk {i}", t, "synthetic") for i, t in enumerate(texts)]
    embedder = load_embedder()
    before = rss_mb()
    index = CorpusIndex(embedder)
    rng = np.random.default_rng(11)
    vectors = rng.standard_normal((len(docs), DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    if embedder is not None:
        index.add_vectors({chunk(d)[0].digest: v for d, v in zip(docs, vectors, strict=True)})
    t0 = time.perf_counter()
    index.update(docs)  # the vectors were added above: nothing is embedded
    print(
        f"  build (chunk, BM25, stack vectors)       {time.perf_counter() - t0:7.2f} s  "
        f"+{rss_mb() - before:.0f} MB RSS"
    )

    def hybrid(q: str) -> None:
        index.clear_query_cache()  # the query is embedded every time
        index.search(q, 10)

    mode = "hybrid search (BM25 + MiniLM, RRF)" if index.dense else "BM25 search (no model)"
    report(f"{mode}, top 10", timed(hybrid, questions, 3))
    if embedder is not None:
        report("  of which: query embedding", timed(lambda q: embedder.encode([q]), questions, 3))
        query = embedder.encode(["Which project spun out of Polygon?"])[0]
        report(
            "  of which: dense scores + top 50",
            timed(lambda q: np.argpartition(-(vectors @ query), 49)[:50], questions, 3),
        )
    t0 = time.perf_counter()
    bm = BM25([terms(t) for t in texts])
    print(f"  our BM25 build alone (incl. tokenising)  {time.perf_counter() - t0:7.2f} s")
    report("our BM25 alone, top 50", timed(lambda q: bm.top(q, 50), questions, 3))
    try:
        import bm25s
    except ImportError:
        print("  (bm25s not installed: pip install -e '.[bench]' for the peer)")
        return
    t0 = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    print(f"  peer bm25s build (incl. tokenising)      {time.perf_counter() - t0:7.2f} s")

    def peer(q: str) -> None:
        qt = bm25s.tokenize([q], stopwords="en", show_progress=False)
        retriever.retrieve(qt, k=50, show_progress=False)

    report("peer bm25s tokenise + retrieve, top 50", timed(peer, questions, 3))


def main() -> None:
    print(f"load average at start: {load_avg()} (2 cores)")
    questions = [json.loads(x)["question"] for x in GOLD.read_text().splitlines() if x.strip()]
    docs = real_corpus(questions)
    synthetic(questions, docs)
    print(f"load average at end: {load_avg()}")


if __name__ == "__main__":
    main()
