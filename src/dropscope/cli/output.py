"""Output helpers shared by the commands: JSON/CSV conversion, number formatting, console,
and `shown`, through which every command prints text that came from a user."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any

from rich.console import Console
from rich.markup import escape

from dropscope.domain.scoring import format_usd
from dropscope.domain.text import is_control, visible


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def jsonable(obj: Any) -> Any:
    """Dataclasses, enums, dates and Decimals as plain JSON values (Decimal → number)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [jsonable(v) for v in obj]
    return obj


def shown(value: object) -> str:
    """Text from a user (a name, a description, a URL, an error a receiver sent back) as a
    command may print it with rich: every control character made visible (ESC as `\\x1b`,
    CR as `\\x0d`, RIGHT-TO-LEFT OVERRIDE as `\\u202e`), so nothing reaches the terminal
    that moves the cursor, rewrites a line or starts an escape sequence, and rich markup
    escaped, so `[red]` prints as it is. Use it for table cells and in `console.print`."""
    return escape(visible(str(value)))


def _json_safe(text: str) -> str:
    """JSON text with the control characters `json.dumps(ensure_ascii=False)` leaves as they
    are (DEL, the C1 controls, bidirectional controls) written as `\\uXXXX` escapes: the same
    JSON, safe for a terminal. (It escapes every C0 control inside strings itself; the
    newlines left are the indentation's.)"""
    if text.isascii() and "\x7f" not in text:
        return text
    return "".join(f"\\u{ord(c):04x}" if c != "\n" and is_control(c) else c for c in text)


def print_json(console: Console, data: Any) -> None:
    text = json.dumps(jsonable(data), indent=2, ensure_ascii=False)
    console.file.write(_json_safe(text) + "\n")


def print_csv(console: Console, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else jsonable(v) for v in row])
    console.file.write(buf.getvalue())


def usd(value: Decimal | None, qualifier: str | None = None) -> str:
    if value is None:
        return "–"
    text = format_usd(value)
    return f"{qualifier} {text}" if qualifier else text


def num(value: float | Decimal | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{float(value):,.{digits}f}"


def score(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


STATUS_STYLE = {
    "confirmed": "bold green",
    "likely": "bold yellow",
    "possible": "bold cyan",
    "snapshot_taken": "bold magenta",
    "claimable": "bold bright_green",
    "distributed": "dim",
    "ruled_out": "dim red",
}
