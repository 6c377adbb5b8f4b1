"""Name handling: slugs, normalised names for matching, and closest-match suggestions."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(name: str) -> str:
    """'Big Brain Holdings' → 'big-brain-holdings'; accents dropped, punctuation folded."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def normalise_name(name: str) -> str:
    """A key for matching names across sources: lowercase, no punctuation or spaces."""
    return slugify(name).replace("-", "")


def closest(word: str, candidates: Iterable[str], n: int = 3) -> tuple[str, ...]:
    """Up to `n` candidates that look like `word` (difflib ratio ≥ 0.6), best first."""
    return tuple(difflib.get_close_matches(word.lower(), list(candidates), n=n, cutoff=0.6))
