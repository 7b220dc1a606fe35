"""The board: a task created in the dialog (estimate first) crosses the board
to done while its run log streams, without a reload; illegal moves snap back
with the API's reason; cards move by keyboard; changes made elsewhere show
within a second; the page works at phone width and in both themes."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from browsing import SCREENSHOTS, Page, UiServer, card, column, expect, sign_in_with_key

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def board_for(ui_server: UiServer, open_page: Callable[..., Page], **size: int) -> Page:
    page = open_page(ui_server, **size)
    sign_in_with_key(page, ui_server.key("member"))
    expect(page.locator("#live-status")).to_have_text("Live")
    expect(page.locator("#board")).not_to_have_attribute("aria-busy", "true")
    return page


def test_a_task_created_in_the_dialog_crosses_the_board_while_its_log_streams(
    ui_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = board_for(ui_server, open_page)
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("button", name="New task").click()
    dialog = page.get_by_role("dialog", name="New task")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Title").fill("Fix the flaky login redirect")
    dialog.get_by_label("Type").select_option("bugfix")
    dialog.get_by_label("Priority").select_option("high")
    dialog.get_by_label("Role").select_option("developer")
    estimate = dialog.locator("#nt-estimate")
    expect(estimate).to_contain_text("≈ $")
    expect(estimate).to_contain_text("developer")
    expect(estimate).to_contain_text("offline")
    dialog.get_by_role("button", name="Create task").click()
    expect(dialog).to_be_hidden()

    created = card(page, "Fix the flaky login redirect")
    expect(created).to_be_visible()
    expect(created.locator(".badge", has_text="bugfix")).to_be_visible()
    expect(created).to_contain_text("high")
    # While a run works on it, the card says so.
    expect(created.locator(".dot-running")).to_be_visible()
    # The run console of the same task, opened beside the board, streams the log.
    href = created.locator(".card-title").get_attribute("href")
    assert href
    console = open_page(ui_server)
    console.goto("/login")
    console.evaluate(
        "s => localStorage.setItem('swarmyard.session', s)",
        page.evaluate("localStorage.getItem('swarmyard.session')"),
    )
    console.goto(href)
    log = console.get_by_role("log", name="Run events")
    status = console.locator("[data-run-status]")
    expect(status).to_have_text("Running", timeout=15_000)
    expect(log.locator(".event-type-llm_call").first).to_be_visible(timeout=15_000)
    expect(log.locator(".event-type-completed")).to_be_visible(timeout=15_000)
    expect(status).to_have_text("Succeeded")
    expect(log.locator(".event-type-routing").first).to_contain_text("chose offline:")
    expect(log.locator(".event-type-llm_call").last).to_contain_text("[offline model]")
    expect(console.locator('[data-stat="tokens_in"]')).not_to_have_text("0")
    # Meanwhile the card reached done on the board page, which never reloaded.
    expect(
        column(page, "done").locator(".card-title", has_text="Fix the flaky login redirect")
    ).to_be_visible(timeout=15_000)
    assert page.evaluate("window.stillTheSamePage") is True


def test_an_illegal_move_snaps_back_with_the_reason(
    ui_server: UiServer, open_page: Callable[..., Page]
) -> None:
    ui_server.task("Draft the release notes", status="backlog")
    page = board_for(ui_server, open_page)
    source = card(page, "Draft the release notes")
    expect(
        column(page, "backlog").locator(".card-title", has_text="Draft the release notes")
    ).to_be_visible()
    source.drag_to(column(page, "done"))
    toast = page.get_by_role("alert").filter(has_text="cannot go to Done")
    expect(toast).to_contain_text("cannot move from 'backlog' to 'done'")
    expect(
        column(page, "backlog").locator(".card-title", has_text="Draft the release notes")
    ).to_be_visible()
    expect(
        column(page, "done").locator(".card-title", has_text="Draft the release notes")
    ).to_have_count(0)


def test_a_legal_drag_moves_the_card(ui_server: UiServer, open_page: Callable[..., Page]) -> None:
    ui_server.task("Shelve the old dashboard", status="backlog")
    page = board_for(ui_server, open_page)
    card(page, "Shelve the old dashboard").drag_to(column(page, "blocked"))
    expect(
        column(page, "blocked").locator(".card-title", has_text="Shelve the old dashboard")
    ).to_be_visible()
    task = next(
        t
        for t in ui_server.api("GET", "/tasks?q=Shelve")["items"]
        if t["title"] == "Shelve the old dashboard"
    )
    assert task["status"] == "blocked"


def test_cards_move_with_the_keyboard(ui_server: UiServer, open_page: Callable[..., Page]) -> None:
    ui_server.task("Write the onboarding guide", status="backlog")
    page = board_for(ui_server, open_page)
    title = card(page, "Write the onboarding guide").locator(".card-title")
    title.focus()
    page.keyboard.press("m")
    menu = page.get_by_role("menu", name="Move to column")
    expect(menu).to_be_visible()
    expect(page.get_by_role("menuitem", name="Move to To do")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    todo = column(page, "todo").locator(".card-title", has_text="Write the onboarding guide")
    expect(todo).to_be_visible()
    expect(todo).to_be_focused()
    # Alt+← moves it one column back.
    page.keyboard.press("Alt+ArrowLeft")
    back = column(page, "backlog").locator(".card-title", has_text="Write the onboarding guide")
    expect(back).to_be_visible()
    expect(back).to_be_focused()


def test_changes_made_elsewhere_show_within_a_second(
    ui_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = board_for(ui_server, open_page)
    task = ui_server.task("Made by another client", status="backlog")
    expect(
        column(page, "backlog").locator(".card-title", has_text="Made by another client")
    ).to_be_visible(timeout=1000)
    ui_server.api("PATCH", f"/tasks/{task['id']}", json={"status": "blocked"})
    expect(
        column(page, "blocked").locator(".card-title", has_text="Made by another client")
    ).to_be_visible(timeout=1000)
    ui_server.api("DELETE", f"/tasks/{task['id']}")
    expect(
        column(page, "cancelled").locator(".card-title", has_text="Made by another client")
    ).to_be_visible(timeout=1000)


def test_filters_narrow_the_board_and_stay_in_the_address(
    ui_server: UiServer, open_page: Callable[..., Page]
) -> None:
    ui_server.task("Filter me: docs card", status="backlog")
    ui_server.task("Filter me: design card", "design", status="backlog")
    page = board_for(ui_server, open_page)
    page.locator("#filter-text").fill("Filter me")
    expect(page.locator(".card:not(.filtered-out)")).to_have_count(2)
    page.locator("#filter-type").select_option("design")
    expect(page.locator(".card:not(.filtered-out)")).to_have_count(1)
    expect(card(page, "Filter me: design card")).to_be_visible()
    expect(page).to_have_url(re.compile(r"type=design"))
    page.reload()
    expect(page.locator("#filter-type")).to_have_value("design")
    expect(page.locator(".card:not(.filtered-out)")).to_have_count(1)


def test_the_board_fits_a_phone_and_both_themes(
    ui_server: UiServer, open_page: Callable[..., Page]
) -> None:
    ui_server.task("Seen on a phone", status="backlog")
    phone = board_for(ui_server, open_page, width=390, height=844)
    expect(card(phone, "Seen on a phone")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    expect(phone.get_by_role("button", name="New task")).to_be_in_viewport()
    card(phone, "Seen on a phone").locator(".card-move").click()
    expect(phone.get_by_role("menuitem", name="Move to To do")).to_be_visible()

    page = board_for(ui_server, open_page, color_scheme="dark")
    background = "getComputedStyle(document.body).backgroundColor"
    dark = page.evaluate(background)
    toggle = page.locator("#theme-toggle")
    toggle.click()  # system -> light
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert page.evaluate(background) != dark
    toggle.click()  # light -> dark
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert page.evaluate(background) == dark
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")


def test_screenshot_of_the_board(ui_server: UiServer, open_page: Callable[..., Page]) -> None:
    """A board with work in most columns, for the documentation."""
    for title, type_, fields in [
        ("Plan the Q3 roadmap", "planning", {"status": "backlog", "priority": "high"}),
        ("Document the export API", "docs", {"priority": "normal"}),
        (
            "Threat-model the upload path",
            "security-audit",
            {"status": "backlog", "priority": "urgent"},
        ),
    ]:
        ui_server.task(title, type_, **fields)
    done = ui_server.task("Fix the CSV export encoding", "bugfix", priority="high")
    page = board_for(ui_server, open_page)
    expect(column(page, "done").locator(".card-title", has_text=done["title"])).to_be_visible(
        timeout=15_000
    )
    page.mouse.move(0, 0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "board.png"))
