"""The inclusion policy: tech >= 80 or solid fundamentals, and it says why."""

from __future__ import annotations

from dropscope.domain.models import Score, ScoreKind, ScoreMethod
from dropscope.domain.policy import decide_inclusion


def s(kind: ScoreKind, v: float) -> Score:
    return Score(kind, v, ScoreMethod.CURATED, "score")


def test_tech_at_threshold_is_listed() -> None:
    d = decide_inclusion(s(ScoreKind.TECH, 80), None)
    assert d.listed
    assert d.rule == "tech"


def test_solid_fundamentals_list_a_project_without_tech() -> None:
    d = decide_inclusion(None, s(ScoreKind.FUNDAMENTALS, 77))
    assert d.listed
    assert d.rule == "fundamentals"


def test_excluded_project_says_why() -> None:
    d = decide_inclusion(s(ScoreKind.TECH, 79), s(ScoreKind.FUNDAMENTALS, 60))
    assert not d.listed
    assert "79 < 80" in d.reason
    assert "60 < 75" in d.reason
    assert "no tech score" in decide_inclusion(None, None).reason


def test_thresholds_are_parameters() -> None:
    tech = s(ScoreKind.TECH, 85)
    assert not decide_inclusion(tech, None, min_tech=90).listed
    assert decide_inclusion(None, s(ScoreKind.FUNDAMENTALS, 70), solid_fundamentals=70).listed
