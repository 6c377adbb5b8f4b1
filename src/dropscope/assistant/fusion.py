"""Weighted reciprocal-rank fusion of ranked lists (Cormack et al., 2009).

Each list contributes weight / (k + rank) to every item it ranks; k = 60 damps the head so
that one list's first place does not drown the other's. Ranks start at 1.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = 60

T = TypeVar("T", bound=Hashable)


def rrf(rankings: Sequence[tuple[float, Sequence[T]]], k: int = K) -> list[tuple[T, float]]:
    """Fuse `(weight, ranked items)` lists; best first, ties in first-seen order."""
    score: dict[T, float] = {}
    for weight, items in rankings:
        for rank, item in enumerate(items, start=1):
            score[item] = score.get(item, 0.0) + weight / (k + rank)
    return sorted(score.items(), key=lambda kv: -kv[1])
