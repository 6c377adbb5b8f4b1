"""Name handling: slugs, normalised names for matching, and closest-match suggestions; the
characters no saved text may hold (controls) and their visible escapes."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

from dropscope.errors import InvalidInput

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# The bidirectional controls (Unicode "Bidi_Control"): they reorder what a terminal or a
# page shows, so text can read differently from what it is ("Trojan Source").
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def slugify(name: str) -> str:
    """'Big Brain Holdings' → 'big-brain-holdings'; accents dropped, punctuation folded."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def normalise_name(name: str) -> str:
    """A key for matching names across sources: lowercase, no punctuation or spaces."""
    return slugify(name).replace("-", "")


def closest(word: str, candidates: Iterable[str], n: int = 3) -> tuple[str, ...]:
    """Up to `n` candidates that look like `word` (difflib ratio ≥ 0.6), best first."""
    return tuple(difflib.get_close_matches(word.lower(), list(candidates), n=n, cutoff=0.6))


def is_control(ch: str) -> bool:
    """A C0 or C1 control (Unicode category Cc: NUL, TAB, LF, CR, ESC, DEL, U+0080–U+009F)
    or a bidirectional control: characters that move the cursor, start terminal escape
    sequences or reorder what is shown."""
    return unicodedata.category(ch) == "Cc" or ch in BIDI_CONTROLS


def escape_char(ch: str) -> str:
    """'\\x1b' for ESC, '\\u202e' for RIGHT-TO-LEFT OVERRIDE: a control made visible."""
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control character (`is_control`) replaced by its escape, so it can
    be printed to a terminal as it is: nothing in it can move the cursor, clear a line or
    recolour what follows. A backslash is left as it is."""
    if text.isprintable() or not any(is_control(ch) for ch in text):
        return text
    return "".join(escape_char(ch) if is_control(ch) else ch for ch in text)


def check_no_controls(field: str, text: str) -> str:
    """`text`, or `InvalidInput` naming `field` and the first control character in it (the
    saved text a person reads: names, descriptions, URLs)."""
    for i, ch in enumerate(text):
        if is_control(ch):
            raise InvalidInput(
                f"{field} may not contain control characters ({escape_char(ch)} at {i})",
                fields=((field, "contains a control character"),),
            )
    return text
