"""Control characters: refused in saved text, made visible when printed."""

from __future__ import annotations

import pytest

from dropscope.domain.text import check_no_controls, is_control, visible
from dropscope.errors import InvalidInput


@pytest.mark.parametrize(
    "ch", ["\x00", "\t", "\n", "\r", "\x1b", "\x7f", "\x9b", "\u202e", "\u2066", "\u200f"]
)
def test_controls_are_refused_and_made_visible(ch: str) -> None:
    assert is_control(ch)
    with pytest.raises(InvalidInput, match="description may not contain control characters"):
        check_no_controls("description", f"a{ch}b")
    shown = visible(f"a{ch}b")
    assert not any(is_control(c) for c in shown)
    assert shown.startswith("a\\")
    assert shown.endswith("b")


def test_visible_escapes() -> None:
    assert visible("red\x1b[31m\r\n") == "red\\x1b[31m\\x0d\\x0a"
    assert visible("abc\u202eexe.txt") == "abc\\u202eexe.txt"
    text = "Ünïcode, emoji 🚀, Arabic عربي, spaces and [brackets]"
    assert visible(text) == text
    assert check_no_controls("name", text) == text
