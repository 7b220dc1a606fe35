"""The audit log page: an admin reads the log, filters it by action, actor and
moment (kept in the address) and pages back with the cursor; a member is
offered no audit navigation and gets a readable refusal; it fits a phone."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browsing import SCREENSHOTS, Page, UiServer, expect, sign_in_with_password

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def audit_server(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[UiServer]:
    """A platform of this module's own, so the log holds what this module did."""
    env = {"SWARMYARD_OFFLINE_DELAY_MS": "50", "SWARMYARD_RATE_LIMIT_AUTH_PER_IP": "1000/minute"}
    server = UiServer(Path(tmp_path_factory.mktemp("ui-audit")), env).start()
    server.person("ada@example.com", "admin")
    server.person("max@example.com", "member")
    yield server
    server.stop()


def key_of(server: UiServer, name: str, role: str) -> dict[str, Any]:
    made: dict[str, Any] = server.api("POST", "/api-keys", json={"name": name, "role": role})
    return made


def audit_page(server: UiServer, open_page: Callable[..., Page], **size: Any) -> Page:
    page = open_page(server, **size)
    sign_in_with_password(page, "ada@example.com", start="/audit")
    expect(page.locator("#audit")).not_to_have_attribute("aria-busy", "true")
    return page


def test_an_admin_reads_and_filters_the_audit_log(
    audit_server: UiServer, open_page: Callable[..., Page]
) -> None:
    planner = key_of(audit_server, "planner", "member")
    for name in ("Roadmap", "Billing"):
        audit_server.api("POST", "/projects", key=planner["key"], json={"name": name})
    schedule = {"name": "Nightly", "cron": "0 2 * * *", "task": {"title": "t", "type": "docs"}}
    audit_server.api("POST", "/schedules", json=schedule)

    page = audit_page(audit_server, open_page)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Audit")).to_be_visible()
    entries = page.locator(".audit-table tbody tr")
    expect(entries.first).to_be_visible()
    assert entries.count() >= 5  # members and keys added, projects, the schedule

    page.get_by_label("Action").fill("project.")
    page.get_by_role("button", name="Filter").click()
    expect(entries).to_have_count(2)
    for i in range(2):
        expect(entries.nth(i)).to_contain_text("project.create")
        expect(entries.nth(i)).to_contain_text("key “planner”")  # the actor by name
        expect(entries.nth(i)).to_contain_text("ok")
    expect(page).to_have_url(re.compile(r"/audit\?action=project\.$"))

    # Another actor with the same filter: nothing of theirs.
    page.get_by_label("Actor").fill("user:nobody")
    page.keyboard.press("Enter")
    expect(page.locator("#audit-entries")).to_contain_text("No entry matches these filters.")
    page.get_by_label("Actor").fill(f"api_key:{planner['id']}")
    page.get_by_label("Action").fill("")
    page.get_by_role("button", name="Filter").click()
    expect(entries).to_have_count(2)
    page.get_by_label("Since").fill("2999-01-01T00:00")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit-entries")).to_contain_text("No entry matches these filters.")
    assert "since=2999-01-01T" in page.url

    # The filters live in the address: a reload shows the same view.
    page.get_by_label("Since").fill("")
    page.get_by_label("Action").fill("schedule.create")
    page.get_by_label("Actor").fill("")
    page.get_by_role("button", name="Filter").click()
    expect(entries).to_have_count(1)
    page.reload()
    expect(page.get_by_label("Action")).to_have_value("schedule.create")
    expect(entries).to_have_count(1)
    row = entries.first
    expect(row).to_contain_text("schedule:sched_")
    page.get_by_role("button", name="Clear").click()
    expect(page.get_by_label("Action")).to_have_value("")
    expect(page).to_have_url(re.compile(r"/audit$"))


def test_older_entries_are_read_a_page_at_a_time(
    audit_server: UiServer, open_page: Callable[..., Page]
) -> None:
    for i in range(55):
        audit_server.api("POST", "/projects", json={"name": f"Paging {i:02d}"})
    page = audit_page(audit_server, open_page)
    page.get_by_label("Action").fill("project.create")
    page.get_by_role("button", name="Filter").click()
    entries = page.locator(".audit-table tbody tr")
    expect(entries).to_have_count(50)
    older = page.get_by_role("button", name="Older entries")
    expect(older).to_be_visible()
    older.click()
    total = len(audit_server.api("GET", "/audit?action=project.create&limit=500")["items"])
    expect(entries).to_have_count(total)
    expect(older).to_be_hidden()
    ids = page.locator(".audit-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert len(ids) == len(set(ids)) == total


def test_a_member_gets_no_audit_navigation_and_a_readable_refusal(
    audit_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = open_page(audit_server)
    sign_in_with_password(page, "max@example.com")
    expect(page.locator("#role-badge")).to_have_text("member")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Schedules")).to_be_visible()
    expect(nav.get_by_role("link", name="Audit")).to_be_hidden()

    page.goto("/audit")
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Only admins can read the audit log")
    expect(refusal).to_contain_text("Your role in this workspace is member")
    expect(refusal).to_contain_text("your role (member) may not audit.read")
    expect(page.get_by_role("search")).to_be_hidden()
    expect(page.locator(".audit-table")).to_have_count(0)
    expect(nav.get_by_role("link", name="Audit")).to_be_hidden()


def test_screenshot_of_the_audit_log(
    audit_server: UiServer, open_page: Callable[..., Page]
) -> None:
    reviewer = key_of(audit_server, "release-bot", "member")
    audit_server.api("POST", "/projects", key=reviewer["key"], json={"name": "Release 4.2"})
    task = audit_server.task("Write the 4.2 release notes", status="backlog")
    audit_server.api("PATCH", f"/tasks/{task['id']}", json={"status": "todo"})
    page = audit_page(audit_server, open_page)
    expect(page.locator(".audit-table tbody tr").first).to_be_visible()
    page.mouse.move(0, 0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "audit.png"))


def test_the_audit_log_fits_a_phone(audit_server: UiServer, open_page: Callable[..., Page]) -> None:
    page = audit_page(audit_server, open_page, width=390, height=844, color_scheme="dark")
    expect(page.locator(".audit-table tbody tr").first).to_be_visible()
    # The table scrolls inside its own frame; the page itself does not.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator(".table-wrap").focus()
    page.keyboard.press("ArrowRight")
    page.screenshot(path=str(audit_server.data_dir / "audit-phone.png"), full_page=True)
