"""`dropscope ask "question"`: an answer from dropscope's data, streamed, with its sources."""

from __future__ import annotations

from enum import StrEnum

import typer

from dropscope.cli.context import AppContext
from dropscope.cli.errors import handle_errors
from dropscope.cli.output import print_json
from dropscope.errors import SourceUnavailable
from dropscope.services.assistant import Assistant, answer_of, check_text, citation_dict


class AskFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def register(app: typer.Typer) -> None:
    @app.command("ask")
    @handle_errors
    def ask(
        ctx: typer.Context,
        question: str = typer.Argument(..., help="A question about projects and airdrops."),
        fmt: AskFormat = typer.Option(AskFormat.TEXT, "--format", "-f", help="Output format."),
    ) -> None:
        """Answer a question from dropscope's research, citing its sources [n].

        Offline by default (an extractive answer); written by Claude when ANTHROPIC_API_KEY
        is set. Not financial advice."""
        app_ctx: AppContext = ctx.obj
        question = check_text(question)  # a bad question fails before the database opens
        helper = Assistant.from_settings(app_ctx.settings, app_ctx.db(), lambda: app_ctx.now)
        with app_ctx.err.status("Indexing the research corpus…"):
            helper.refresh()  # the first run embeds every chunk (about 20 s), later ones reuse
        events = helper.ask_stream(question)
        out = app_ctx.out
        for ev in events:
            if ev.event == "error":
                raise SourceUnavailable(str(ev.data["message"]))
            if ev.event == "delta" and fmt is AskFormat.TEXT:
                out.file.write(str(ev.data["text"]))
                out.file.flush()
            if ev.event == "done":
                answer = answer_of(ev)
                if fmt is AskFormat.JSON:
                    print_json(
                        out,
                        {
                            "question": answer.question,
                            "answer": answer.text,
                            "citations": [citation_dict(c) for c in answer.citations],
                            "generator": answer.generator,
                            "mode": answer.mode,
                        },
                    )
                    return
                out.file.write("\n")
                if answer.citations:
                    out.print("\nSources:", style="bold")
                    for c in answer.citations:
                        out.print(f"  [{c.n}] {c.title} — {c.url}", markup=False, highlight=False)
