"""Okapi BM25 over numpy arrays: an inverted index of (chunk, weight) postings per term.

Weights are computed once at build time (idf x saturated term frequency), so a query is
one `np.bincount` over the postings of its terms and an `argpartition` for the top k. At
100,000 chunks that is a few milliseconds (bench/assistant.py measures it against bm25s).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from dropscope.assistant.text import terms

K1 = 1.2
B = 0.75


class BM25:
    """An immutable BM25 index over tokenised documents (lists of terms)."""

    def __init__(self, docs: Sequence[Sequence[str]]) -> None:
        self.size = len(docs)
        lengths = np.array([len(d) for d in docs], dtype=np.float32)
        avg = float(lengths.mean()) if self.size and lengths.sum() > 0 else 1.0
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                ids, tfs = postings.setdefault(term, ([], []))
                ids.append(i)
                tfs.append(tf)
        self._postings: dict[str, tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]] = {}
        self.idf: dict[str, float] = {}
        for term, (ids, tfs) in postings.items():
            df = len(ids)
            idf = math.log(1.0 + (self.size - df + 0.5) / (df + 0.5))
            id_arr = np.array(ids, dtype=np.int32)
            tf_arr = np.array(tfs, dtype=np.float32)
            norm = K1 * (1.0 - B + B * lengths[id_arr] / avg)
            weight = idf * tf_arr * (K1 + 1.0) / (tf_arr + norm)
            self._postings[term] = (id_arr, weight.astype(np.float32))
            self.idf[term] = idf

    def term_idf(self, term: str) -> float:
        """A term's idf; a term no document has weighs as a rare one (in two documents): it
        is a specific part of a question that nothing matches, or a paraphrase."""
        found = self.idf.get(term)
        return found if found is not None else math.log(1.0 + (self.size - 1.5) / 2.5)

    @classmethod
    def from_texts(cls, texts: Sequence[str]) -> BM25:
        return cls([terms(t) for t in texts])

    def scores(self, query_terms: Sequence[str]) -> npt.NDArray[np.float32]:
        """The BM25 score of every document for the query (0 where no term matches)."""
        ids: list[npt.NDArray[np.int32]] = []
        weights: list[npt.NDArray[np.float32]] = []
        for term in dict.fromkeys(query_terms):
            hit = self._postings.get(term)
            if hit is not None:
                ids.append(hit[0])
                weights.append(hit[1])
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.bincount(
            np.concatenate(ids), weights=np.concatenate(weights), minlength=self.size
        ).astype(np.float32)

    def top(self, query: str, k: int) -> list[tuple[int, float]]:
        """The best `k` documents with a positive score, best first."""
        scores = self.scores(terms(query))
        return top_k(scores, k)


def top_k(scores: npt.NDArray[np.float32], k: int) -> list[tuple[int, float]]:
    """Indices and values of the `k` largest positive scores, best first (ties by index)."""
    if scores.size == 0 or k <= 0:
        return []
    k = min(k, scores.size)
    idx = np.argpartition(-scores, k - 1)[:k]
    ordered = sorted(idx.tolist(), key=lambda i: (-float(scores[i]), i))
    return [(i, float(scores[i])) for i in ordered if scores[i] > 0]
