"""The CLI's one translation of the error tree: a one-line message and an exit code.

Exit codes: 2 bad input or data file, 3 not found, 4 database unavailable, 1 anything else.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from pydantic import ValidationError

from dropscope.config import Settings
from dropscope.domain.text import visible
from dropscope.errors import DropscopeError, InvalidInput, NotFound, StorageError

P = ParamSpec("P")
R = TypeVar("R")


def exit_code(error: DropscopeError) -> int:
    if isinstance(error, InvalidInput):
        return 2
    if isinstance(error, NotFound):
        return 3
    if isinstance(error, StorageError):
        return 4
    return 1


def one_line(error: DropscopeError) -> str:
    """`error: <message>` on one line, control characters made visible (a message may
    quote what a user typed)."""
    hint = ""
    if isinstance(error, NotFound) and error.suggestions:
        hint = f" (did you mean {' or '.join(error.suggestions)}?)"
    return visible(f"error: {error.message}{hint}")


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Wrap a command so a DropscopeError ends it with one line on stderr and its exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DropscopeError as exc:
            print(one_line(exc), file=sys.stderr)
            raise typer.Exit(exit_code(exc)) from None

    return wrapper


def settings_or_exit() -> Settings:
    """The settings from the environment; a bad DROPSCOPE_* value ends the command with one
    line naming the variable (exit code 2), not a validation traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        name = f"DROPSCOPE_{field.upper()}" if field else "a DROPSCOPE_ setting"
        print(visible(f"error: {name}: {first['msg']}"), file=sys.stderr)
        raise typer.Exit(2) from None
