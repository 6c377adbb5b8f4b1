"""Output helpers shared by the commands: JSON/CSV conversion, number formatting, console."""

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

from dropscope.domain.scoring import format_usd


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


def print_json(console: Console, data: Any) -> None:
    console.file.write(json.dumps(jsonable(data), indent=2, ensure_ascii=False) + "\n")


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
