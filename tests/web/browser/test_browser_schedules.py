"""The schedules page: a schedule is created with the cron helper (presets
and the next ticks from the server), a bad expression shows the API's
reason, and the schedule is paused, resumed and deleted (with confirmation);
viewers get no control, members no delete; it fits a phone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browsing import (
    SCREENSHOTS,
    Locator,
    Page,
    UiServer,
    expect,
    sign_in_with_key,
    sign_in_with_password,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TASK = {"title": "Review the dependency updates", "type": "review"}


@pytest.fixture(scope="module")
def schedule_server(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[UiServer]:
    """A platform of this module's own: its schedules are this module's to change."""
    env = {"SWARMYARD_OFFLINE_DELAY_MS": "50", "SWARMYARD_RATE_LIMIT_AUTH_PER_IP": "1000/minute"}
    server = UiServer(Path(tmp_path_factory.mktemp("ui-schedules")), env).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def no_schedules(schedule_server: UiServer) -> None:
    for s in schedule_server.api("GET", "/schedules")["items"]:
        schedule_server.api("DELETE", f"/schedules/{s['id']}")


def schedules_page(
    server: UiServer, open_page: Callable[..., Page], role: str = "admin", **size: int
) -> Page:
    page = open_page(server, **size)
    sign_in_with_key(page, server.key(role), start="/schedules")
    expect(page.locator("#schedules")).not_to_have_attribute("aria-busy", "true")
    return page


def row(page: Page, name: str) -> Locator:
    return page.locator("tr[data-id]", has=page.get_by_role("rowheader", name=name, exact=True))


def make(server: UiServer, name: str, cron: str, **extra: object) -> dict[str, object]:
    body = {"name": name, "cron": cron, "timezone": "Europe/Berlin", "task": TASK, **extra}
    made: dict[str, object] = server.api("POST", "/schedules", json=body)
    return made


def test_a_schedule_is_made_with_the_cron_helper_then_paused_resumed_and_deleted(
    schedule_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = schedules_page(schedule_server, open_page)
    expect(page.locator("#schedule-list")).to_contain_text("No schedule yet")
    page.get_by_role("button", name="New schedule").click()
    dialog = page.get_by_role("dialog", name="New schedule")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Name")).to_be_focused()
    dialog.get_by_label("Name").fill("Weekly review")

    # A preset fills the expression, and the server's next ticks follow.
    monday = dialog.get_by_role("button", name="Every Monday at 9:00")
    monday.focus()
    page.keyboard.press("Enter")
    expect(dialog.get_by_label("Cron expression")).to_have_value("0 9 * * 1")
    expect(monday).to_have_attribute("aria-pressed", "true")
    dialog.get_by_label("Time zone").fill("Europe/Berlin")
    ticks = dialog.get_by_role("list", name="Next runs").locator("li")
    expect(ticks).to_have_count(5)
    expect(dialog.locator("#ns-preview")).to_contain_text("Europe/Berlin time")
    for i in range(5):
        expect(ticks.nth(i)).to_contain_text("Mon")
        expect(ticks.nth(i)).to_contain_text("09:00")

    # A bad expression: the API's reason, in the preview and when creating.
    dialog.get_by_label("Cron expression").fill("0 25 * * 1")
    preview = dialog.locator("#ns-preview")
    expect(preview).to_contain_text("cron: the hour field '25' is not valid (it takes 0-23")
    expect(monday).to_have_attribute("aria-pressed", "false")
    dialog.get_by_label("Title").fill(TASK["title"])
    dialog.get_by_label("Type").select_option("review")
    dialog.get_by_label("Priority").select_option("high")
    dialog.get_by_role("button", name="Create schedule").click()
    refusal = dialog.get_by_role("alert")
    expect(refusal).to_contain_text("the hour field '25' is not valid")
    assert schedule_server.api("GET", "/schedules")["items"] == []

    dialog.get_by_label("Cron expression").fill("0 9 * * 1")
    expect(ticks).to_have_count(5)
    dialog.get_by_role("button", name="Create schedule").click()
    expect(dialog).to_be_hidden()
    made = row(page, "Weekly review")
    expect(made).to_contain_text("0 9 * * 1")
    expect(made).to_contain_text("Every Monday at 9:00")
    expect(made).to_contain_text(TASK["title"])
    expect(made).to_contain_text("high")
    expect(made.locator("[data-schedule-state]")).to_have_text("Active")
    (stored,) = schedule_server.api("GET", "/schedules")["items"]
    assert (stored["cron"], stored["timezone"], stored["enabled"]) == (
        "0 9 * * 1",
        "Europe/Berlin",
        True,
    )
    assert stored["task"] == {**TASK, "priority": "high"}

    made.get_by_role("button", name="Pause Weekly review").click()
    expect(made.locator("[data-schedule-state]")).to_have_text("Paused")
    expect(made).to_contain_text("— (paused)")
    assert schedule_server.api("GET", f"/schedules/{stored['id']}")["enabled"] is False
    resume = made.get_by_role("button", name="Resume Weekly review")
    expect(resume).to_be_focused()  # the redraw kept the keyboard's place
    page.keyboard.press("Enter")
    expect(made.locator("[data-schedule-state]")).to_have_text("Active")
    assert schedule_server.api("GET", f"/schedules/{stored['id']}")["enabled"] is True

    made.get_by_role("button", name="Delete Weekly review").click()
    confirm = page.get_by_role("dialog", name="Delete this schedule?")
    expect(confirm).to_contain_text("Tasks it already created stay on the board")
    confirm.get_by_role("button", name="Keep it").click()
    expect(made).to_be_visible()
    made.get_by_role("button", name="Delete Weekly review").click()
    confirm.get_by_role("button", name="Delete the schedule").click()
    expect(made).to_have_count(0)
    expect(page.locator("#schedule-list")).to_contain_text("No schedule yet")
    assert schedule_server.api("GET", "/schedules")["items"] == []


def test_an_unknown_time_zone_is_named(
    schedule_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = schedules_page(schedule_server, open_page)
    page.get_by_role("button", name="New schedule").click()
    dialog = page.get_by_role("dialog", name="New schedule")
    dialog.get_by_label("Time zone").fill("Mars/Olympus_Mons")
    expect(dialog.locator("#ns-preview")).to_contain_text(
        "timezone: unknown time zone 'Mars/Olympus_Mons'"
    )
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="New schedule")).to_be_focused()


def test_viewers_get_no_control_and_members_no_delete(
    schedule_server: UiServer, open_page: Callable[..., Page]
) -> None:
    make(schedule_server, "Nightly audit", "0 2 * * *")
    page = open_page(schedule_server)
    sign_in_with_password(
        page, schedule_server.person("vic@example.com", "viewer"), start="/schedules"
    )
    expect(page.locator("#role-badge")).to_have_text("viewer")
    seen = row(page, "Nightly audit")
    expect(seen).to_contain_text("0 2 * * *")
    expect(page.get_by_role("button", name="New schedule")).to_be_hidden()
    expect(page.get_by_role("columnheader", name="Actions")).to_have_count(0)
    expect(seen.get_by_role("button")).to_have_count(0)

    member = schedules_page(schedule_server, open_page, role="member")
    seen = row(member, "Nightly audit")
    expect(member.get_by_role("button", name="New schedule")).to_be_visible()
    expect(seen.get_by_role("button", name="Pause Nightly audit")).to_be_visible()
    expect(seen.get_by_role("button", name="Delete Nightly audit")).to_have_count(0)


def test_screenshot_of_the_schedules_page(
    schedule_server: UiServer, open_page: Callable[..., Page]
) -> None:
    make(schedule_server, "Weekly dependency review", "0 9 * * 1")
    make(
        schedule_server,
        "Nightly security audit",
        "30 2 * * *",
        task={"title": "Audit the upload path", "type": "security-audit", "priority": "high"},
    )
    paused = make(schedule_server, "Monthly cost report", "0 8 1 * *")
    schedule_server.api("PATCH", f"/schedules/{paused['id']}", json={"enabled": False})
    page = schedules_page(schedule_server, open_page)
    expect(row(page, "Monthly cost report").locator("[data-schedule-state]")).to_have_text("Paused")
    page.mouse.move(0, 0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "schedules.png"))
    # The dialog with the cron helper, on its own.
    page.get_by_role("button", name="New schedule").click()
    dialog = page.get_by_role("dialog", name="New schedule")
    dialog.get_by_label("Name").fill("Weekday stand-up notes")
    dialog.get_by_role("button", name="Every weekday at 9:00").click()
    dialog.get_by_label("Time zone").fill("Europe/Berlin")
    expect(dialog.locator("#ns-preview")).to_contain_text("Europe/Berlin time")
    dialog.get_by_label("Title").fill("Summarise yesterday's merged work")
    page.set_viewport_size({"width": 1280, "height": 1100})
    dialog.screenshot(path=str(SCREENSHOTS / "schedules-new.png"))


def test_the_schedules_page_fits_a_phone(
    schedule_server: UiServer, open_page: Callable[..., Page]
) -> None:
    make(schedule_server, "Weekly dependency review", "0 9 * * 1")
    page = schedules_page(schedule_server, open_page, width=390, height=844, color_scheme="dark")
    seen = row(page, "Weekly dependency review")
    expect(seen.get_by_role("button", name="Pause Weekly dependency review")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(schedule_server.data_dir / "schedules-phone.png"), full_page=True)
    page.get_by_role("button", name="New schedule").click()
    dialog = page.get_by_role("dialog", name="New schedule")
    expect(dialog.get_by_role("list", name="Next runs").locator("li")).to_have_count(5)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(schedule_server.data_dir / "schedules-phone-new.png"))
