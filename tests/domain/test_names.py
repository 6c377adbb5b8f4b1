"""Names as lookup keys: what a name may hold, which names clash, which project a key picks."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from dropscope.domain.names import clashes, name_problem, pick
from dropscope.errors import NotFound


@dataclass(frozen=True)
class P:
    slug: str
    name: str
    aliases: tuple[str, ...] = field(default=())


SCROLL = P("scroll", "Scroll")
TAIKO = P("taiko", "Taiko", ("Tyco",))
FAKE = P("aaa-fake", "Scroll")  # sorts first: the impostor of the report


@pytest.mark.parametrize(
    "text",
    [
        *("Scroll\u202e", "\u2066Scroll\u2069", "Scr\u200boll", "Scr\u200doll", "\ufeffScroll"),
        *("Scroll\n", "Scr\toll", "Scroll\x00", "Scroll\x1b[2J", "Scroll\x85", "Scroll\u00ad"),
    ],
)
def test_control_and_format_characters_are_no_name(text: str) -> None:
    problem = name_problem(text)
    assert problem is not None
    assert problem.startswith("contains a control or format character (U+")


@pytest.mark.parametrize("text", ["Scroll", "zkSync Era", "peaq", "Ærø Labs", "星链", "Bera 🐻"])
def test_ordinary_names_pass(text: str) -> None:
    assert name_problem(text) is None


def test_a_slug_picks_its_own_project_whatever_sorts_first() -> None:
    projects = [FAKE, SCROLL, TAIKO]
    assert pick(projects, "scroll") is SCROLL
    assert pick(projects, "SCROLL") is SCROLL
    assert pick(projects, "aaa-fake") is FAKE


def test_a_name_picks_only_when_one_project_has_it() -> None:
    assert pick([FAKE, SCROLL, TAIKO], "tyco") is TAIKO
    assert pick([SCROLL, TAIKO], "Scr oll!") is SCROLL
    with pytest.raises(NotFound) as info:
        pick([FAKE, SCROLL, TAIKO], "Scr oll")
    assert info.value.suggestions == ("aaa-fake", "scroll")
    assert "names 2 projects" in info.value.message


def test_no_match_suggests_close_slugs_and_an_empty_key_matches_nothing() -> None:
    with pytest.raises(NotFound) as info:
        pick([SCROLL, TAIKO], "scrol")
    assert info.value.suggestions == ("scroll",)
    star = P("star", "星")
    with pytest.raises(NotFound):
        pick([star, P("moon", "月")], "星")  # normalises to '': not a key


def test_clashes_name_the_field_and_the_other_project() -> None:
    found = clashes(P("aaa-fake", "S.c.r.o.l.l", ("Tyco", "Own")), [SCROLL, TAIKO])
    assert [(c.field, c.other) for c in found] == [("name", "scroll"), ("aliases[0]", "taiko")]
    assert found[0].message == "'S.c.r.o.l.l' is already the slug of project 'scroll'"
    assert found[1].message == "'Tyco' is already an alias of project 'taiko'"
    slug = clashes(P("tyco", "Tyco Chain"), [TAIKO])
    assert [(c.field, c.key) for c in slug] == [("slug", "tyco")]


def test_no_clash_with_itself_or_between_slugs_alone() -> None:
    assert clashes(P("scroll", "Scroll", ("SCROLL",)), [SCROLL, TAIKO]) == []
    assert clashes(P("scrollx", "Other"), [P("scroll-x", "Elsewhere")]) == []
    assert clashes(P("scrollx", "Other"), [P("scroll-x", "Scroll X")])[0].field == "slug"
    assert clashes(P("star", "星"), [P("moon", "月")]) == []
