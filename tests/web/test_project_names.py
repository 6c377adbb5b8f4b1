"""The dashboard's `/projects/{key}` with an impostor in the database (a project `aaa-fake`
named "Scroll"): a slug serves its own page; only a name one project alone has redirects."""

from __future__ import annotations

import pytest

from dropscope.services.database import Database
from tests.api.conftest import client_for
from tests.impostor import PHISHING, plant

pytestmark = pytest.mark.anyio


async def test_a_slug_is_never_redirected_and_a_shared_name_never_is(loaded: Database) -> None:
    plant(loaded)
    async with client_for(loaded, scopes=None) as web:
        scroll = await web.get("/projects/scroll")
        shouted = await web.get("/projects/SCROLL")
        shared = await web.get("/projects/Scr oll")
        alias = await web.get("/projects/Tyco")
        fake = await web.get("/projects/aaa-fake")
    assert scroll.status_code == 200, scroll.headers.get("location")
    assert "<h1>Scroll" in scroll.text or ">Scroll<" in scroll.text
    assert PHISHING not in scroll.text
    assert (shouted.status_code, shouted.headers["location"]) == (301, "/projects/scroll")
    assert shared.status_code == 404
    assert "location" not in shared.headers
    assert "names 2 projects" in shared.text
    assert (alias.status_code, alias.headers["location"]) == (301, "/projects/taiko")
    assert fake.status_code == 200  # its own slug: its own page, marked by its own name
