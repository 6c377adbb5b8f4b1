"""The dashboard's routes: each page parses its URL, calls one research service inside a
read-only unit of work, and renders a template; errors become friendly HTML pages.

Plain Starlette routes (not FastAPI ones), so the API's query-parameter strictness and
OpenAPI schema do not apply to them; they live outside /v1 and /mcp, so key authentication
and rate limits do not either (`api.auth.is_protected`).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from dropscope.domain.assess import AssessParams
from dropscope.errors import DropscopeError, InvalidInput, NotFound, SourceUnavailable
from dropscope.services.assistant import AskEvent, Assistant
from dropscope.services.board import BoardQuery, board
from dropscope.services.database import Database, UnitOfWork
from dropscope.services.public_ask import PublicAskBudget
from dropscope.services.research import compare, investors, past_airdrops, profile
from dropscope.web.ask_view import EXAMPLES, MAX_QUESTION, answer_view, question_of, with_href
from dropscope.web.board_view import board_page
from dropscope.web.links import web_url
from dropscope.web.project_view import project_page
from dropscope.web.query import board_filters, compare_slugs, parse_as_of
from dropscope.web.render import PAGE_CACHE_CONTROL, html, not_modified, page_etag, render
from dropscope.web.tables import compare_rows, history_page

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,79}$")  # a slug, or a name to redirect
_STATIC = {
    "style.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "ask.js": "text/javascript; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class Page:
    template: str
    context: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Redirect:
    url: str


Build = Callable[[UnitOfWork], Page | Redirect]


@dataclass
class Site:
    """What the pages need, given by `create_app`: the database, the assessment
    parameters, "now", the data version (for ETags; cheap, cached by the API), the
    research assistant of this process (for /ask; None: the page says it is unavailable)
    and the budget of its paid answers (`services/public_ask.py`; None: unlimited).

    Rendered pages are kept in a small LRU keyed by their ETag, which holds the data
    version, the day and the exact URL: a write or a new day makes new keys, never a stale
    page."""

    db: Database
    params: AssessParams
    clock: Callable[[], datetime]
    data_version: Callable[[], Awaitable[int]]
    assistant: Callable[[], Assistant] | None = None
    ask_budget: PublicAskBudget | None = None
    cache_size: int = 256
    _pages: OrderedDict[str, str] = field(default_factory=OrderedDict)

    def today(self) -> date:
        return self.clock().date()

    async def serve(
        self, request: Request, plan: Callable[[], Build], *, suggest: str = "/projects/"
    ) -> Response:
        """Parse (`plan`), answer 304 on a matching ETag, else build and render."""
        start = time.perf_counter()
        try:
            build = plan()
            version = await self.data_version()
            etag = page_etag(version, self.today(), request.url.path, request.url.query)
            if _matches(request.headers.get("if-none-match"), etag):
                return not_modified(etag)
            body = self._pages.get(etag)
            if body is None:
                built = await run_in_threadpool(self._render, build)
                if isinstance(built, Redirect):
                    return RedirectResponse(built.url, status_code=301)
                body = self._remember(etag, built)
            else:
                self._pages.move_to_end(etag)
        except DropscopeError as exc:
            return error_page(exc, suggest)
        ms = (time.perf_counter() - start) * 1000
        return html(
            body,
            headers={
                "etag": etag,
                "cache-control": PAGE_CACHE_CONTROL,
                "server-timing": f"app;dur={ms:.1f}",
            },
        )

    def _remember(self, etag: str, body: str) -> str:
        self._pages[etag] = body
        while len(self._pages) > self.cache_size:
            self._pages.popitem(last=False)
        return body

    def _render(self, build: Build) -> str | Redirect:
        with self.db.unit_of_work(read_only=True) as uow:
            page = build(uow)
        if isinstance(page, Redirect):
            return page
        return render(page.template, {"today": self.today(), **page.context})


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    bare = etag.removeprefix("W/")
    return any(t.strip().removeprefix("W/") in (bare, "*") for t in if_none_match.split(","))


def error_page(exc: DropscopeError, suggest: str = "/projects/") -> Response:
    if isinstance(exc, NotFound):
        status, title = 404, "Not found"
    elif isinstance(exc, InvalidInput):
        status, title = 400, "That request did not make sense"
    else:
        status, title = 503, "Temporarily unavailable"
    suggestions = getattr(exc, "suggestions", ())
    body = render(
        "error.html",
        {
            "status": status,
            "title": title,
            "message": exc.message,
            "suggestions": suggestions,
            "suggest": suggest,
        },
    )
    return html(body, status, headers={"cache-control": "no-store"})


def _as_of_query(at: date | None) -> str:
    return f"?as_of={at.isoformat()}" if at else ""


def dashboard_routes(site: Site) -> list[BaseRoute]:
    """The dashboard's routes, for the app to add to its own."""

    async def board_view(request: Request) -> Response:
        def plan() -> Build:
            filters = board_filters(request.query_params)
            at = parse_as_of(request.query_params) or site.today()

            def build(uow: UnitOfWork) -> Page:
                page = board_page(uow, at, filters, site.params)
                ctx = {"page": page, "as_of_q": _as_of_query(parse_as_of(request.query_params))}
                return Page("board.html", ctx)

            return build

        return await site.serve(request, plan)

    async def project_view(request: Request) -> Response:
        slug = request.path_params["slug"]

        def plan() -> Build:
            at = parse_as_of(request.query_params)
            if not _KEY.match(slug):
                raise NotFound(f"no project {slug[:80]!r}")

            def build(uow: UnitOfWork) -> Page | Redirect:
                p = profile(uow, slug, at or site.today(), site.params)
                canonical = p.assessment.project.slug
                if canonical != slug:
                    return Redirect(f"/projects/{canonical}{_as_of_query(at)}")
                return Page("project.html", {"page": project_page(p), "as_of_q": _as_of_query(at)})

            return build

        return await site.serve(request, plan)

    async def compare_view(request: Request) -> Response:
        def plan() -> Build:
            slugs = compare_slugs(request.query_params)
            asked = parse_as_of(request.query_params)
            at = asked or site.today()

            def build(uow: UnitOfWork) -> Page:
                if len(slugs) < 2:  # nothing (or one) chosen yet: the picker
                    choices = board(uow, at, BoardQuery(sort="name"), site.params).entries
                    message = "pick at least one more" if slugs else ""
                    picker: dict[str, Any] = {"choices": choices, "chosen": slugs}
                    picker.update(message=message, as_of=asked, profiles=[], rows=[])
                    return Page("compare.html", picker)
                found = compare(uow, slugs, at, site.params)
                table: dict[str, Any] = {"profiles": found, "rows": compare_rows(found)}
                return Page("compare.html", {**table, "as_of_q": _as_of_query(asked)})

            return build

        return await site.serve(request, plan)

    async def history_view(request: Request) -> Response:
        def build(uow: UnitOfWork) -> Page:
            airdrops, sources = past_airdrops(uow)
            return Page("history.html", {"page": history_page(airdrops, sources)})

        return await site.serve(request, lambda: build)

    async def investors_view(request: Request) -> Response:
        def build(uow: UnitOfWork) -> Page:
            return Page(
                "investors.html", {"views": investors(uow, site.today(), None, site.params)}
            )

        return await site.serve(request, lambda: build)

    async def investor_view(request: Request) -> Response:
        slug = request.path_params["slug"]

        def plan() -> Build:
            if not _KEY.match(slug):
                raise NotFound(f"no investor {slug[:80]!r}")

            def build(uow: UnitOfWork) -> Page | Redirect:
                found = investors(uow, site.today(), slug, site.params)
                view = next((v for v in found if v.investor.slug == slug), found[0])
                if view.investor.slug != slug:
                    return Redirect(f"/investors/{view.investor.slug}")
                return Page(
                    "investor.html", {"view": view, "website": web_url(view.investor.website)}
                )

            return build

        return await site.serve(request, plan, suggest="/investors/")

    async def ask_page(request: Request) -> Response:
        asked = request.query_params.get("q", "").strip()[: 4 * MAX_QUESTION]
        context: dict[str, Any] = {"question": asked, "examples": EXAMPLES, "error": None}
        context.update(max_question=MAX_QUESTION, view=None, offline=None)
        try:
            question = question_of(request.query_params)
            if question:
                helper = await run_in_threadpool(_assistant, site)
                paid, offline = _budget(site, request)
                answer = await run_in_threadpool(helper.ask, question, paid=paid)
                context["view"] = answer_view(answer)
                context["offline"] = offline[0] if offline else None
        except InvalidInput as exc:
            context["error"] = exc.message
            return html(render("ask.html", context), 400, {"cache-control": "no-store"})
        except DropscopeError as exc:
            return error_page(exc)
        return html(render("ask.html", context), headers={"cache-control": "no-store"})

    async def ask_stream(request: Request) -> Response:
        try:
            question = question_of(request.query_params)
            if not question:
                raise InvalidInput("type a question first")
            helper = await run_in_threadpool(_assistant, site)
            paid, offline = _budget(site, request)
            # validates first
            events = await run_in_threadpool(helper.ask_stream, question, paid=paid)
        except DropscopeError as exc:
            status = 400 if isinstance(exc, InvalidInput) else 503
            event = AskEvent("error", {"message": exc.message})
            return Response(b"".join(_sse([event])), status, _STREAM_HEADERS, _STREAM_TYPE)
        return StreamingResponse(
            _sse(events, offline), headers=_STREAM_HEADERS, media_type=_STREAM_TYPE
        )

    return [
        Route("/", board_view, name="board"),
        Route("/projects/{slug}", project_view, name="project"),
        Route("/projects", lambda _: RedirectResponse("/", status_code=301)),
        Route("/compare", compare_view, name="compare"),
        Route("/history", history_view, name="history"),
        Route("/investors", investors_view, name="investors"),
        Route("/investors/{slug}", investor_view, name="investor"),
        Route("/ask", ask_page, name="ask"),
        Route("/ask/stream", ask_stream, name="ask-stream"),
        Route("/static/{name}", static_view, name="static"),
    ]


_STREAM_TYPE = "text/event-stream"
_STREAM_HEADERS = {
    "cache-control": "no-store",
    "x-accel-buffering": "no",
    "x-content-type-options": "nosniff",
}


def _assistant(site: Site) -> Assistant:
    if site.assistant is None:
        raise SourceUnavailable("the research assistant is not available on this server")
    return site.assistant()


def _budget(site: Site, request: Request) -> tuple[Callable[[], bool] | None, list[str]]:
    """The `paid` check the assistant asks before a paid generator writes an answer for
    this request (None: no budget), and the list the reason goes in when it says no."""
    budget = site.ask_budget
    if budget is None:
        return None, []
    address = request.client.host if request.client else None
    refused: list[str] = []

    def paid() -> bool:
        reason = budget.take(address, site.clock())
        if reason is not None:
            refused.append(reason)
        return reason is None

    return paid, refused


def _sse(events: Iterable[AskEvent], offline: list[str] | None = None) -> Iterator[bytes]:
    """The API's events (POST /v1/ask), each citation with `href`, its dashboard page;
    `done` says, in `offline`, why the answer was written offline (or null)."""
    for ev in events:
        data: dict[str, Any] = dict(ev.data)
        if "citations" in data:
            data["citations"] = [with_href(c) for c in data["citations"]]
        if ev.event == "done":
            data["answer"] = data.pop("text")
            data["offline"] = offline[0] if offline else None
        yield f"event: {ev.event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


_ASSETS: dict[str, tuple[bytes, str]] = {}


async def static_view(request: Request) -> Response:
    """The dashboard's own CSS and JS, from the package, with a content ETag."""
    name = request.path_params["name"]
    if name not in _STATIC:
        return error_page(NotFound(f"no file {name[:80]!r}"))
    if name not in _ASSETS:
        data = (resources.files("dropscope.web") / "static" / name).read_bytes()
        _ASSETS[name] = (data, page_etag(hashlib.blake2b(data).hexdigest()))
    data, etag = _ASSETS[name]
    # versioned URLs (?v=build) from the pages, so a long max-age is safe
    headers = {"etag": etag, "cache-control": "public, max-age=86400"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=_STATIC[name], headers=headers)
