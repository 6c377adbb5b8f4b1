"""`POST /v1/ask`: a question answered from dropscope's data, with citations.

JSON by default; with `Accept: text/event-stream`, Server-Sent Events as the answer is
written: `citations` (the numbered sources), `delta` (text), then `done` (the whole answer)
or `error`. A bad question is a 400/422 problem before any event is sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from dropscope.api.deps import Api, get_api
from dropscope.api.json import StrictJsonRoute, dumps
from dropscope.api.schemas.common import PROBLEM_RESPONSES, Out
from dropscope.services.assistant import (
    MAX_QUESTION,
    Answer,
    AskEvent,
    Assistant,
    assistant_for,
    citation_dict,
)

router = APIRouter(tags=["assistant"], responses=PROBLEM_RESPONSES, route_class=StrictJsonRoute)


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        min_length=1,
        max_length=MAX_QUESTION,
        examples=["Which confirmed airdrops have the highest tech score?"],
    )


class CitationOut(Out):
    n: int = Field(description="The number the answer's [n] markers refer to")
    id: str = Field(examples=["project://taiko"])
    title: str
    url: str = Field(description="The document's URI (fetch it through MCP `fetch`)")
    quote: str = Field(description="The start of the cited passage")


class AnswerOut(Out):
    question: str
    answer: str = Field(
        description="Text with [n] citation markers, ending with a not-financial-advice line"
    )
    citations: list[CitationOut]
    generator: str = Field(description="extractive (offline), claude, or database")
    mode: str = Field(description="structured (from the database), retrieval, or unknown")

    @classmethod
    def of(cls, a: Answer) -> AnswerOut:
        return cls(
            question=a.question,
            answer=a.text,
            citations=[CitationOut(**citation_dict(c)) for c in a.citations],
            generator=a.generator,
            mode=a.mode,
        )


def assistant(api: Api) -> Assistant:
    return api.assistant or assistant_for(api.db, api.settings, api.clock)


def _sse(events: Iterator[AskEvent]) -> Iterator[bytes]:
    for ev in events:
        data: dict[str, Any] = ev.data
        if ev.event == "done":
            data = {**data, "answer": data["text"]}
            del data["text"]
        yield f"event: {ev.event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


@router.post(
    "/v1/ask",
    response_model=AnswerOut,
    summary="Ask a question",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def ask(
    request: Request,
    api: Annotated[Api, Depends(get_api)],
    body: Annotated[AskIn, Body()],
) -> Response:
    """Answer a question from dropscope's research (cards of every project, investor and
    past airdrop, and the research notes), citing each sentence `[n]`. Questions about
    statuses and scores, or who backs whom, are answered from the database. Answers are
    written offline by an extractive generator, or by Claude when the server has an
    Anthropic key. Not financial advice."""
    helper = await run_in_threadpool(assistant, api)
    if "text/event-stream" in request.headers.get("accept", ""):
        events = await run_in_threadpool(helper.ask_stream, body.question)  # validates first
        return StreamingResponse(
            _sse(events),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )
    answer = await run_in_threadpool(helper.ask, body.question)
    return Response(
        dumps(AnswerOut.of(answer).model_dump(mode="json")),
        media_type="application/json",
        headers={"cache-control": "no-store"},
    )
