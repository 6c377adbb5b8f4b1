"""The corpus index: chunks, BM25, MiniLM vectors, hybrid search; updated incrementally.

`update(documents)` compares each document's content hash with what is indexed: only new
or changed documents are re-chunked, and only chunks whose hash has no vector yet are
embedded (vectors are also kept on disk, keyed by chunk hash, when a cache folder is
given). BM25 and the vector matrix are then re-assembled from the kept pieces, which takes
milliseconds at this corpus size. Search fuses the BM25 and dense rankings with weighted
reciprocal-rank fusion; without a model it is BM25 alone.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

from dropscope.assistant.bm25 import BM25, top_k
from dropscope.assistant.documents import Chunk, Document, chunk
from dropscope.assistant.embed import DIM, MiniLM
from dropscope.assistant.fusion import rrf
from dropscope.assistant.text import terms

log = logging.getLogger(__name__)
_BLAS = ThreadpoolController()

BM25_WEIGHT = 1.0
DENSE_WEIGHT = 0.5  # measured on tests/gold: recall@5 0.992, MRR 0.988 (1.0: 0.979, 0.988)
CANDIDATES = 50  # from each ranking, before fusion


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved chunk with its fused score and the evidence behind it."""

    chunk: Chunk
    score: float
    bm25: float
    cosine: float | None


@dataclass(frozen=True, slots=True)
class UpdateReport:
    documents: int
    chunks: int
    changed_documents: tuple[str, ...]
    removed_documents: tuple[str, ...]
    embedded_chunks: int


class VectorStore:
    """Chunk vectors by content hash, in memory and (optionally) in one .npz file on disk,
    replaced atomically (keys and vectors together), so concurrent processes never read a
    mismatched pair."""

    FILE = "minilm-l6-v2-vectors.npz"

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.vectors: dict[str, npt.NDArray[np.float32]] = {}
        if folder is not None:
            try:
                with np.load(folder / self.FILE) as saved:
                    keys, mat = saved["keys"], saved["vectors"]
                if mat.shape == (len(keys), DIM):
                    self.vectors = {str(k): mat[i] for i, k in enumerate(keys)}
            except (OSError, ValueError, KeyError):
                self.vectors = {}

    def prune(self, live: set[str]) -> bool:
        """Forget vectors of chunks no longer indexed once they outnumber the live ones
        (a cache shared by processes over slightly different corpora keeps both)."""
        stale = [k for k in self.vectors if k not in live]
        if len(stale) <= len(live) + 1000:
            return False
        for k in stale:
            del self.vectors[k]
        return True

    def save(self) -> None:
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            keys = sorted(self.vectors)
            mat = np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, DIM))
            with tempfile.NamedTemporaryFile(dir=self.folder, suffix=".npz", delete=False) as f:
                np.savez(f, keys=np.array(keys, dtype=str), vectors=mat.astype(np.float32))
            os.replace(f.name, self.folder / self.FILE)
        except OSError as exc:  # a read-only folder only costs re-embedding next time
            log.warning("could not write the embedding cache in %s: %s", self.folder, exc)


class CorpusIndex:
    """Hybrid search over documents; see the module docstring."""

    def __init__(self, embedder: MiniLM | None = None, cache_dir: Path | None = None) -> None:
        self.embedder = embedder
        self._store = VectorStore(cache_dir) if embedder is not None else VectorStore(None)
        self._docs: dict[str, Document] = {}
        self._chunks: dict[str, list[Chunk]] = {}
        self._flat: list[Chunk] = []
        self._by_id: dict[str, Chunk] = {}
        self._bm25 = BM25([])
        self._matrix: npt.NDArray[np.float32] = np.zeros((0, DIM), dtype=np.float32)
        self._embed_query = lru_cache(maxsize=256)(self._embed_one)
        self._vectors_current = False
        self.last_embedded = 0  # chunks embedded by the latest `ensure_vectors`

    @property
    def dense(self) -> bool:
        return self.embedder is not None

    def update(self, documents: Sequence[Document], *, embed: bool = True) -> UpdateReport:
        """Bring the index in line with `documents` (see the module docstring). With
        `embed=False` new chunks are embedded later, by the first search that needs them
        (a question the database answers never waits for the model)."""
        new_docs = {d.id: d for d in documents}
        changed = [
            i
            for i, d in new_docs.items()
            if i not in self._docs or self._docs[i].digest != d.digest
        ]
        removed = [i for i in self._docs if i not in new_docs]
        for i in removed:
            self._chunks.pop(i, None)
        for i in changed:
            self._chunks[i] = chunk(new_docs[i])
        self._docs = new_docs
        self._flat = [c for i in new_docs for c in self._chunks[i]]
        self._by_id = {c.id: c for c in self._flat}
        if changed or removed or not self._bm25.size:
            self._bm25 = BM25([terms(f"{c.title}\n{c.text}") for c in self._flat])
        self._vectors_current = False
        embedded = self.ensure_vectors() if embed else 0
        return UpdateReport(
            len(new_docs), len(self._flat), tuple(changed), tuple(removed), embedded
        )

    def ensure_vectors(self) -> int:
        """Embed the chunks that have no vector yet and line the matrix up with the chunks;
        how many were embedded (0 without a model or when nothing changed)."""
        if self.embedder is None or self._vectors_current:
            return 0
        missing = [c for c in self._flat if c.digest not in self._store.vectors]
        if missing:
            vecs = self.embedder.encode([f"{c.title}\n{c.text}" for c in missing])
            for c, v in zip(missing, vecs, strict=True):
                self._store.vectors[c.digest] = v
        pruned = self._store.prune({c.digest for c in self._flat})
        if missing or pruned:
            self._store.save()
        self._matrix = (
            np.stack([self._store.vectors[c.digest] for c in self._flat])
            if self._flat
            else np.zeros((0, DIM), dtype=np.float32)
        )
        self._vectors_current = True
        self.last_embedded = len(missing)
        return len(missing)

    def add_vectors(self, vectors: Mapping[str, npt.NDArray[np.float32]]) -> None:
        """Vectors computed elsewhere, by chunk hash (benchmarks load synthetic ones; an
        import could load a shared cache). Used by the next `ensure_vectors`."""
        self._store.vectors.update(vectors)
        self._vectors_current = False

    def _embed_one(self, text: str) -> npt.NDArray[np.float32]:
        assert self.embedder is not None
        vec: npt.NDArray[np.float32] = self.embedder.encode([text])[0]
        return vec

    def clear_query_cache(self) -> None:
        """Forget cached query embeddings (benchmarks measure uncached queries)."""
        self._embed_query.cache_clear()

    def document(self, doc_id: str) -> Document | None:
        return self._docs.get(doc_id)

    def chunk(self, chunk_id: str) -> Chunk | None:
        return self._by_id.get(chunk_id)

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        return list(self._chunks.get(doc_id, []))

    def documents(self) -> list[Document]:
        return list(self._docs.values())

    def idf(self, term: str) -> float:
        return self._bm25.term_idf(term)

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        """The best `limit` chunks for `query`, best first."""
        if not self._flat or limit < 1:
            return []
        self.ensure_vectors()
        bm = self._bm25.scores(terms(query))
        rankings: list[tuple[float, list[int]]] = [
            (BM25_WEIGHT, [i for i, _ in top_k(bm, CANDIDATES)])
        ]
        cos: npt.NDArray[np.float32] | None = None
        if self.embedder is not None and self._matrix.shape[0]:
            # One query's matrix products are small: threads cost more than they save, and
            # concurrent requests already use the cores (bench/assistant.py measures both).
            with _BLAS.limit(limits=1, user_api="blas"):
                cos = self._matrix @ self._embed_query(query)
            idx = np.argpartition(-cos, min(CANDIDATES, cos.size) - 1)[:CANDIDATES]
            rankings.append((DENSE_WEIGHT, sorted(idx.tolist(), key=lambda i: -float(cos[i]))))
        fused = rrf(rankings)[:limit]
        return [
            Hit(
                self._flat[i],
                round(score, 6),
                float(bm[i]),
                float(cos[i]) if cos is not None else None,
            )
            for i, score in fused
        ]
