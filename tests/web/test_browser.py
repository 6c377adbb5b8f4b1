"""The dashboard in a real browser: Playwright driving Debian's Chromium against a live
`dropscope serve`. Takes screenshots of the main pages: into a temporary folder, or into
the folder DROPSCOPE_SCREENSHOTS names (`make screenshots` sets docs/screenshots/, which
the README shows), so that `make test` leaves the checkout as it found it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dropscope.services.board import BoardQuery, board
from dropscope.services.database import Database
from tests.assistant.support import embedding_cache
from tests.services.test_data_and_board import ARTICLE
from tests.web.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO,
    browser_env,
    live_server,
    skip_reason,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

_reason = skip_reason()
pytestmark = pytest.mark.skipif(_reason is not None, reason=_reason or "")

SCREENSHOTS_VAR = "DROPSCOPE_SCREENSHOTS"
ARTICLE_DAY = "2024-01-05"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("serve")
    with live_server(folder, embedding_cache(request.config)) as running:
        yield running


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: DROPSCOPE_SCREENSHOTS (relative to the repository), or a
    temporary folder."""
    named = os.environ.get(SCREENSHOTS_VAR, "").strip()
    folder = REPO / named if named else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env=browser_env())
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Browser, server: tuple[str, Path]) -> Iterator[Page]:
    context = browser.new_context(base_url=server[0], viewport={"width": 1280, "height": 900})
    p = context.new_page()
    p.set_default_timeout(15_000)
    try:
        yield p
    finally:
        context.close()


def shown_sections(page: Page) -> dict[str, set[str]]:
    """Section id → slugs of the cards the browser shows in it."""
    out = {}
    for section in page.locator("section.section").all():
        sid = section.get_attribute("id") or ""
        hrefs = section.locator("article.card h3 a").evaluate_all("els => els.map(e => e.pathname)")
        out[sid] = {h.removeprefix("/projects/") for h in hrefs}
    return out


def test_the_board_shows_the_articles_16_projects_in_their_sections(page: Page) -> None:
    page.goto(f"/?as_of={ARTICLE_DAY}")
    assert page.locator("h1").first.inner_text().startswith("Airdrop board")
    found = shown_sections(page)
    for status, slugs in ARTICLE.items():
        assert found[status.value] == slugs, status
    assert page.locator("article.card").count() == 16
    for heading in ("Confirmed (5)", "Likely (5)", "Possible (6)"):
        assert page.get_by_role("heading", name=heading).is_visible()


def test_the_board_today_matches_the_board_service(
    shots: Path, page: Page, server: tuple[str, Path]
) -> None:
    today = datetime.now(UTC).date()
    page.goto(f"/?as_of={today}")
    db = Database(f"sqlite:///{server[1]}")
    try:
        with db.unit_of_work(read_only=True) as uow:
            expected = {
                s.value: {a.project.slug for a in items}
                for s, items in board(uow, today, BoardQuery()).grouped()
            }
    finally:
        db.close()
    found = {k: v for k, v in shown_sections(page).items() if v}
    assert found == expected
    assert sum(len(v) for v in found.values()) == 16
    page.goto("/")
    page.screenshot(path=str(shots / "board.png"), full_page=True)


def test_a_filter_narrows_the_board_and_lands_in_the_url(page: Page) -> None:
    page.goto(f"/?as_of={ARTICLE_DAY}")
    before = page.locator("article.card").count()
    page.get_by_label("Narrative", exact=True).select_option("zk-rollups")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**narrative=zk-rollups**")
    cards = page.locator("article.card")
    zk = cards.count()
    assert 0 < zk < before
    for i in range(zk):
        assert "zk-rollups" in cards.nth(i).locator(".chips").inner_text()
    assert f"as_of={ARTICLE_DAY}" in page.url  # the as-of date survives filtering
    assert "chain=" not in page.url  # empty fields are left out of the shared URL
    assert (
        page.locator("#board-count").inner_text()
        == f"Showing {zk} of 16 listed projects matching the filters."
    )
    page.get_by_label("Min. tech score").fill("90")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**min_tech=90**")
    techs = page.locator("article.card .facts div:first-child dd").all_inner_texts()
    assert 0 < len(techs) < zk
    assert all(float(t) >= 90 for t in techs)


def test_a_project_page_shows_its_evidence_timeline(shots: Path, page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Starknet", exact=True).first.click()
    page.wait_for_url("**/projects/starknet")
    timeline = page.get_by_role("list", name="Evidence timeline")
    events = timeline.locator("li")
    assert events.count() >= 5
    assert "2024-02-20" in timeline.inner_text()
    assert events.locator(".tag-strong").count() >= 1  # what the status rests on
    assert page.get_by_role("img", name="funding raised over time").count() == 1
    assert page.get_by_role("table", name="Funding rounds").is_visible()
    page.screenshot(path=str(shots / "project.png"), full_page=True)


def test_compare_from_the_board_shows_two_projects_side_by_side(shots: Path, page: Page) -> None:
    page.goto(f"/?as_of={ARTICLE_DAY}")
    page.locator('input[name="slugs"][value="scroll"]').check()
    page.locator('input[name="slugs"][value="linea"]').check()
    assert page.locator(".compare-hint").inner_text() == "2 selected"
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_url("**/compare?**")
    table = page.locator("table.compare")
    headers = table.locator("thead th").all_inner_texts()
    assert headers == ["Scroll", "Linea"]
    assert table.locator("tr.differs").count() >= 1
    assert table.locator("td.best").count() >= 1
    page.screenshot(path=str(shots / "compare.png"), full_page=True)


def test_history_page_has_its_table_and_charts(shots: Path, page: Page) -> None:
    page.goto("/history")
    assert page.get_by_role("table", name="Past airdrops, oldest snapshot first").is_visible()
    assert page.locator("svg.chart").count() == 3
    page.screenshot(path=str(shots / "history.png"), full_page=True)


def test_a_bad_slug_shows_a_friendly_404_page(page: Page) -> None:
    response = page.goto("/projects/no-such-project")
    assert response is not None
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    page.get_by_role("link", name="Back to the board").click()
    page.wait_for_url("**/")
    assert page.locator("article.card").count() == 16


def test_keyboard_navigation(page: Page) -> None:
    from playwright.sync_api import expect  # waits for the page instead of racing it

    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # shown when focused
    page.keyboard.press("Enter")
    page.wait_for_url("**#main")
    page.keyboard.press("Tab")  # from the main landmark into the filter form
    expect(page.locator("#f-q")).to_be_focused()
    page.keyboard.type("starknet")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=starknet**")
    expect(page.locator("article.card")).to_have_count(1)
    # every control can be reached and shows a focus outline
    outline = page.get_by_label("Narrative", exact=True).evaluate(
        "e => { e.focus(); return getComputedStyle(e).outlineStyle; }"
    )
    assert outline != "none"


def test_the_board_fits_a_phone(shots: Path, browser: Browser, server: tuple[str, Path]) -> None:
    context = browser.new_context(
        base_url=server[0], viewport={"width": 390, "height": 844}, is_mobile=True
    )
    try:
        p = context.new_page()
        p.goto("/")
        assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        p.goto("/projects/starknet")
        assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        p.screenshot(path=str(shots / "project-phone.png"))
        p.goto("/ask?q=Which%20confirmed%20airdrops%20have%20the%20highest%20tech%20score%3F")
        assert p.get_by_role("link", name="Taiko — project card").is_visible()
        assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        context.close()


def test_ask_streams_an_answer_whose_citation_opens_the_project(shots: Path, page: Page) -> None:
    page.goto("/ask")
    page.get_by_label("Your question").fill("Which confirmed airdrops have the highest tech score?")
    with page.expect_response("**/ask/stream?q=**") as streamed:
        page.get_by_role("button", name="Ask", exact=True).click()
    response = streamed.value
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    answer = page.locator("#answer")
    answer.and_(page.locator('[aria-busy="false"]')).wait_for()
    shared = page.url
    assert "/ask?q=Which%20confirmed" in shared  # the URL says what was asked
    text = page.locator("#answer-text").inner_text()
    assert "[1]" in text
    assert "Not financial advice" in text
    assert page.locator("#answer-how").inner_text() == "Answered from the database."
    sources = page.get_by_role("list", name="Sources").locator("li")
    assert sources.count() == 3
    page.screenshot(path=str(shots / "ask.png"), full_page=True)
    page.locator("#answer-text a.marker").first.click()  # [1] jumps to its source
    assert page.url.endswith("#cite-1")
    page.get_by_role("link", name="Taiko — project card").click()
    page.wait_for_url("**/projects/taiko")
    assert page.locator("h1").first.inner_text().startswith("Taiko")
    page.goto(shared)  # shared, the URL shows the same answer (rendered by the server)
    assert page.get_by_role("link", name="Taiko — project card").is_visible()
    assert page.get_by_label("Your question").input_value().startswith("Which confirmed")


def test_ask_without_javascript_answers_server_side(
    browser: Browser, server: tuple[str, Path]
) -> None:
    context = browser.new_context(base_url=server[0], java_script_enabled=False)
    try:
        p = context.new_page()
        p.goto("/ask")
        p.get_by_role("link", name="Who invested in Movement?").click()
        p.wait_for_url("**/ask?q=Who**")
        assert "Borderless Capital" in p.locator("#answer-text").inner_text()
        p.get_by_label("Your question").fill("")
        p.get_by_label("Your question").fill("What is Taiko?")
        p.get_by_role("button", name="Ask", exact=True).click()
        p.wait_for_url("**/ask?q=What**")
        p.get_by_role("link", name="Taiko — project card").click()
        p.wait_for_url("**/projects/taiko")
    finally:
        context.close()


def test_the_api_docs_render_under_their_policy_from_this_origin_only(
    page: Page, server: tuple[str, Path]
) -> None:
    """/docs: Swagger UI draws the API's operations; the browser reports no refused script,
    style or request (a Content-Security-Policy violation is a console error) and every
    request the page makes stays on this origin."""
    errors: list[str] = []
    requested: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/docs")
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert page.locator(".swagger-ui .info .title").first.inner_text().startswith("dropscope API")
    assert page.locator(".swagger-ui .opblock").count() > 10
    page.get_by_role("button", name="Authorize").first.click()  # the dialog keys go into
    page.locator(".swagger-ui .dialog-ux").wait_for()
    assert errors == []
    assert requested
    assert all(u.startswith(server[0] + "/") for u in requested), requested


def test_article_day_is_a_date() -> None:
    assert date.fromisoformat(ARTICLE_DAY) < datetime.now(UTC).date()
