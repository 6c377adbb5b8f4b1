"""Answer generation behind one interface, and the default extractive generator.

A `Generator` turns a question and numbered `Source` passages into text deltas that cite
sources as `[n]`. Whatever generator runs, `finish` (via `CitationFilter`) removes any `[n]`
that points to no source, and the service ends every answer with `NOT_ADVICE`.

`ExtractiveGenerator` is deterministic and offline: it scores every sentence of the
passages by the share of the question's (idf-weighted) terms it contains, keeps the best
few above a relevance cutoff, and cites each with its passage number. When nothing clears
the cutoff it says so instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from dropscope.assistant.text import sentences, terms

NOT_ADVICE = "Not financial advice: dropscope reports sourced research; do your own research."
DONT_KNOW = "I don't know from the data: nothing in dropscope's research answers that question."

SENTENCE_CUTOFF = 0.5  # share of the question's idf mass a sentence must contain
RELATIVE_CUTOFF = 0.75  # and at least this share of the best sentence's score
MAX_SENTENCES = 3
MAX_PER_SOURCE = 2

_MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class Source:
    """A numbered passage given to a generator; `n` is what `[n]` refers to."""

    n: int
    id: str
    title: str
    url: str
    text: str


class Generator(Protocol):
    """Produces an answer as text deltas with `[n]` markers referring to `sources`."""

    name: str

    def stream(self, question: str, sources: Sequence[Source]) -> Iterator[str]: ...


class CitationFilter:
    """Streams text through, dropping `[n]` markers whose n is not a source number.

    A `[` is held back until the marker is complete (or proves not to be one), so a marker
    split across deltas is still checked. `cited` collects the valid numbers, in order.
    """

    def __init__(self, valid: set[int]) -> None:
        self.valid = valid
        self.cited: list[int] = []
        self._held = ""

    def feed(self, delta: str) -> str:
        text = self._held + delta
        self._held = ""
        cut = text.rfind("[")
        if cut != -1 and "]" not in text[cut:] and re.fullmatch(r"\[\d*", text[cut:]):
            if cut > 0 and text[cut - 1] == " ":
                cut -= 1  # the space goes with the marker if the marker goes
            text, self._held = text[:cut], text[cut:]
        return self._clean(text)

    def flush(self) -> str:
        text, self._held = self._held, ""
        return self._clean(text)

    def _clean(self, text: str) -> str:
        def keep(m: re.Match[str]) -> str:
            n = int(m.group(2))
            if n not in self.valid:
                return ""
            if n not in self.cited:
                self.cited.append(n)
            return m.group(0)

        return re.sub(r"( ?)\[(\d+)\]", keep, text)


def strip_unknown_markers(text: str, valid: set[int]) -> str:
    """The whole-text form of `CitationFilter`."""
    f = CitationFilter(valid)
    return f.feed(text) + f.flush()


class ExtractiveGenerator:
    """Sentences from the top passages with `[n]` markers; see the module docstring."""

    name = "extractive"

    def __init__(
        self,
        idf: Callable[[str], float] | None = None,
        cutoff: float = SENTENCE_CUTOFF,
        max_sentences: int = MAX_SENTENCES,
    ) -> None:
        self.idf = idf or (lambda _t: 1.0)
        self.cutoff = cutoff
        self.max_sentences = max_sentences

    def pick(self, question: str, sources: Sequence[Source]) -> list[tuple[int, str]]:
        """The chosen (source number, sentence) pairs, best first."""
        wanted = {t: max(self.idf(t), 0.05) for t in dict.fromkeys(terms(question))}
        mass = sum(wanted.values())
        if not mass:
            return []
        # Terms that name a retrieved document (a project, an investor) are the question's
        # subject: a sentence from a document about another subject is worth less.
        titles = [set(terms(src.title)) for src in sources]
        subject = {t for t in wanted if any(t in tt for tt in titles)}
        scored: list[tuple[float, int, int, str]] = []
        for rank, src in enumerate(sources):
            title_terms = titles[rank]
            for pos, sentence in enumerate(sentences(src.text)):
                have = set(terms(sentence))
                # a card's title names its subject, which its sentences often leave implicit
                share = sum(w for t, w in wanted.items() if t in have) / mass
                context = sum(w for t, w in wanted.items() if t in title_terms and t not in have)
                score = share + context / mass - 0.01 * rank - 0.001 * pos
                if subject and not subject & title_terms:
                    score *= 0.7 if subject & have else 0.5
                if share > 0 and score >= self.cutoff:
                    scored.append((score, src.n, pos, sentence))
        scored.sort(key=lambda s: (-s[0], s[1], s[2]))
        if scored:  # weak sentences next to a strong one are left out
            floor = RELATIVE_CUTOFF * scored[0][0]
            scored = [s for s in scored if s[0] >= floor]
        chosen: list[tuple[int, str]] = []
        per_source: dict[int, int] = {}
        seen: set[str] = set()
        for _score, n, _pos, sentence in scored:
            key = sentence.lower()
            if key in seen or per_source.get(n, 0) >= MAX_PER_SOURCE:
                continue
            seen.add(key)
            per_source[n] = per_source.get(n, 0) + 1
            chosen.append((n, sentence))
            if len(chosen) >= self.max_sentences:
                break
        return chosen

    def stream(self, question: str, sources: Sequence[Source]) -> Iterator[str]:
        chosen = self.pick(question, sources)
        if not chosen:
            yield DONT_KNOW
            return
        for i, (n, sentence) in enumerate(chosen):
            text = _MARKER.sub("", sentence).rstrip()
            end = text[-1] if text[-1] in ".!?" else "."
            text = text.rstrip(".!?")
            yield ("" if i == 0 else " ") + f"{text} [{n}]{end}"
