"""A viewer sees the board, tasks and runs, but no control they may not use."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from browsing import Page, UiServer, card, expect, sign_in_with_password

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_viewer_sees_no_edit_controls(
    ui_server: UiServer, open_page: Callable[..., Page]
) -> None:
    task = ui_server.task("Read-only card", status="backlog")
    finished = ui_server.task("Read-only run", "bugfix")
    page = open_page(ui_server)
    sign_in_with_password(page, ui_server.person("vera@example.com", "viewer"))
    expect(page.locator("#role-badge")).to_have_text("viewer")
    seen = card(page, "Read-only card")
    expect(seen).to_be_visible()
    expect(page.get_by_role("button", name="New task")).to_be_hidden()
    expect(page.locator(".card-move")).to_have_count(0)
    expect(page.locator('.card[draggable="true"]')).to_have_count(0)
    seen.locator(".card-title").focus()
    page.keyboard.press("m")
    expect(page.get_by_role("menu")).to_have_count(0)

    page.goto(f"/tasks/{task['id']}")
    expect(page.get_by_role("heading", name="Read-only card")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel task")).to_have_count(0)

    page.goto(f"/tasks/{finished['id']}")
    expect(page.locator("[data-run-status]")).to_be_visible(timeout=15_000)
    run_link = page.locator("table a").first
    run_link.click()
    expect(page.get_by_role("log", name="Run events")).to_be_visible()
    expect(page.get_by_role("button", name="Stop run")).to_have_count(0)
