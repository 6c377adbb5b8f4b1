"""Project names as lookup keys: which characters a name may hold, which names would clash
with another project's, and which project a key (slug, name or alias) picks.

A project is found by its slug or, for convenience, by its name or an alias
(`/v1/projects/{key}`, the dashboard's `/projects/{key}`, the MCP `get_project` tool,
`dropscope project`). So that a newer project can never answer for an older one (a
look-alike profile with its own claim link is a ready-made phishing page):

- a slug always picks its own project; a name or alias only when one project alone has it
  (`pick`);
- a project's name and aliases may not equal, after `text.normalise_name`, another
  project's slug, name or alias, nor its slug another's name or alias (`clashes`);
- a name holds no control or format character (`name_problem`): a bidi override or a
  zero-width character makes a name read as something other than what it is.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from dropscope.domain.text import closest, normalise_name
from dropscope.errors import NotFound

# Unicode "Other, control" (NUL, ESC, DEL, the C1 controls) and "Other, format" (U+202E
# RIGHT-TO-LEFT OVERRIDE and the other bidi controls, zero-width spaces and joiners, BOM).
REFUSED_CATEGORIES = frozenset({"Cc", "Cf"})


class Named(Protocol):
    """Anything with a project's identity: a domain `Project` or a project document."""

    @property
    def slug(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def aliases(self) -> Sequence[str]: ...


N = TypeVar("N", bound=Named)


def name_problem(text: str) -> str | None:
    """Why `text` cannot be a name or alias (its first Cc or Cf character), or None.

    >>> name_problem("Scroll\\u202e")
    'contains a control or format character (U+202E at 6)'
    """
    for i, ch in enumerate(text):
        if unicodedata.category(ch) in REFUSED_CATEGORIES:
            return f"contains a control or format character (U+{ord(ch):04X} at {i})"
    return None


def keys(p: Named) -> set[str]:
    """What `p` answers to besides its exact slug: its slug, name and aliases, normalised.
    A text that normalises to '' (no letter or digit in ASCII) is no key."""
    return {k for k in map(normalise_name, (p.slug, p.name, *p.aliases)) if k}


@dataclass(frozen=True, slots=True)
class Clash:
    """One of a project's names (at `field`: 'slug', 'name', 'aliases[0]') that another
    project (`other`, a slug) already answers to; `key` is the normalised text they share."""

    field: str
    key: str
    other: str
    message: str


def _roles(p: Named) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {}
    texts = [("the slug", p.slug), ("the name", p.name), *(("an alias", a) for a in p.aliases)]
    for role, text in texts:
        if key := normalise_name(text):
            roles.setdefault(key, []).append(role)
    return roles


def clashes(p: Named, others: Iterable[Named]) -> list[Clash]:
    """Each of `p`'s slug, name and aliases that equals (normalised) a slug, name or alias of
    one of `others` (a project with `p`'s own slug is `p` and is skipped).

    Two slugs that only normalise alike ('scroll-x', 'scrollx') do not clash: a slug is
    matched exactly, and a name lookup they would share is ambiguous, so `pick` refuses it.
    """
    mine = [
        ("slug", p.slug),
        ("name", p.name),
        *((f"aliases[{i}]", a) for i, a in enumerate(p.aliases)),
    ]
    out: list[Clash] = []
    for other in others:
        if other.slug == p.slug:
            continue
        theirs = _roles(other)
        for field, text in mine:
            key = normalise_name(text)
            roles = [r for r in theirs.get(key, []) if field != "slug" or r != "the slug"]
            if key and roles:
                msg = f"{text!r} is already {roles[0]} of project {other.slug!r}"
                out.append(Clash(field, key, other.slug, msg))
    return out


def pick(projects: Sequence[N], key: str) -> N:
    """The project `key` names: the one whose slug is `key` (or `key` in lowercase), else the
    only one that answers to it by name or alias (`keys`).

    `NotFound` otherwise: with close slugs when none does, with the slugs of all of them
    when several do (a shared name is no way to choose between them).
    """
    for slug in (key, key.lower()):
        for p in projects:
            if p.slug == slug:
                return p
    wanted = normalise_name(key)
    found = [p for p in projects if wanted and wanted in keys(p)]
    if len(found) == 1:
        return found[0]
    if found:
        slugs = tuple(sorted(p.slug for p in found))
        raise NotFound(
            f"{key!r} names {len(slugs)} projects; ask by slug: {', '.join(slugs)}", slugs
        )
    raise NotFound(f"no project {key!r}", closest(key, [p.slug for p in projects]))
