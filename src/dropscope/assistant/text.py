"""Word splitting for BM25 and the extractive generator: lower case, stop words, plurals."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")

_STOP = """
a about above after all also am an and any are as at be been being but by can could did
do does doing for from had has have having he her here hers him his how i if in into is
it its just me more most my no nor not of off on once only or other our out over own
same she should so some such than that the their them then there these they this those
through to too under until up very was we were what when where which while who whom why
will with would you your yours tell show give list please much many
"""
STOP_WORDS = frozenset(_STOP.split())


_SUFFIXES = (
    "ations",
    "ation",
    "ions",
    "ion",
    "ings",
    "ing",
    "ers",
    "ies",
    "ed",
    "es",
    "er",
    "e",
    "s",
)


def _stem(word: str) -> str:
    """A crude suffix stripper: "distributed", "distribution", "distribute" → "distribut"."""
    if word.isdigit() or len(word) <= 4:
        return word.removesuffix("s") if len(word) > 3 and not word.endswith("ss") else word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


# Phrases written several ways in the sources, folded to one form before splitting.
_PHRASES = [
    (re.compile(r"\bvirtual machines?\b"), "vm"),
    (re.compile(r"\blayer[- ]?(?:2|two)\b"), "l2"),
    (re.compile(r"\blayer[- ]?(?:1|one)\b"), "l1"),
    (re.compile(r"\bzero[- ]knowledge\b"), "zk"),
    (re.compile(r"\btoken generation event\b"), "tge"),
    (re.compile(r"\b(?:renamed|rebranded|formerly known as|now known as|formerly)\b"), "formerly"),
]


def terms(text: str) -> list[str]:
    """Index terms of `text`: lower-cased words and numbers, no stop words, crude singulars.
    A number keeps its decimal point ("3.4"), and "1,000" becomes "1000"."""
    out = []
    text = text.lower().replace("’", "'")
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    for m in _WORD.findall(text):
        w = m.replace(",", "")
        if w in STOP_WORDS or (len(w) == 1 and not w.isdigit()):
            continue
        out.append(_stem(w))
    return out


def sentences(text: str) -> list[str]:
    """Sentences of a passage; every line (a card fact, a note paragraph or list item) is at
    least one sentence."""
    out: list[str] = []
    for line in text.splitlines():
        flat = line.strip().removeprefix("- ").removeprefix("* ").strip()
        if flat and not flat.startswith("#"):
            out.extend(s.strip() for s in _SENTENCE.split(flat) if s.strip())
    return out
