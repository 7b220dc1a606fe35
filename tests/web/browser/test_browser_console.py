"""The run console: a running run is stopped from it; a finished run replays
its whole log."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from browsing import SCREENSHOTS, Page, UiServer, expect, sign_in_with_key

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def first_run(server: UiServer, task_id: str) -> dict[str, object]:
    """The task's first run, waiting on its board messages rather than polling."""

    def run() -> dict[str, object] | None:
        runs = server.api("GET", f"/tasks/{task_id}/runs")["items"]
        return runs[0] if runs else None

    return server.until(run)


def test_a_running_run_is_stopped_from_the_console(
    slow_server: UiServer, open_page: Callable[..., Page]
) -> None:
    task = slow_server.task("Refactor the scheduler", "bugfix")
    run = first_run(slow_server, task["id"])
    page = open_page(slow_server)
    sign_in_with_key(page, slow_server.key("member"), start=f"/runs/{run['id']}")
    status = page.locator("[data-run-status]")
    expect(status).to_have_text("Running")
    log = page.get_by_role("log", name="Run events")
    expect(log.locator(".event-type-started")).to_be_visible()
    duration = page.locator('[data-stat="duration"]')
    before = duration.inner_text()
    expect(duration).not_to_have_text(before, timeout=3000)  # the clock moves while it runs
    page.get_by_role("button", name="Stop run").click()
    expect(log.locator(".event-type-stopped")).to_be_visible()
    expect(status).to_have_text("Stopped")
    expect(page.get_by_role("button", name="Stop run")).to_have_count(0)
    stopped = slow_server.api("GET", f"/runs/{run['id']}")
    assert stopped["status"] == "stopped"


def test_a_finished_run_replays_its_whole_log(
    ui_server: UiServer, open_page: Callable[..., Page]
) -> None:
    task = ui_server.task("Tidy the config loader", "bugfix")
    run = first_run(ui_server, task["id"])
    page = open_page(ui_server)
    sign_in_with_key(page, ui_server.key("member"), start=f"/tasks/{task['id']}")
    expect(page.locator("[data-run-status]")).to_have_text("Succeeded", timeout=15_000)
    stored = ui_server.api("GET", f"/runs/{run['id']}/events")["items"]

    page.goto(f"/runs/{run['id']}")
    log = page.get_by_role("log", name="Run events")
    expect(log.locator(".event")).to_have_count(len(stored))
    seqs = [
        int(s) for s in log.locator(".event").evaluate_all("els => els.map(e => e.dataset.seq)")
    ]
    assert seqs == [e["seq"] for e in stored]
    expect(log.locator(".event-type-completed")).to_contain_text("[offline model]")
    expect(log.locator(".event-type-tool_call").first).to_contain_text("delegate")
    expect(page.locator('[data-stat="steps"]')).to_have_text(
        str(ui_server.api("GET", f"/runs/{run['id']}")["steps"])
    )
    expect(page.get_by_role("button", name="Stop run")).to_have_count(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "run-console.png"))


def test_a_run_that_does_not_exist_is_said_so(
    ui_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = open_page(ui_server)
    sign_in_with_key(page, ui_server.key("viewer"), start="/runs/run_nothing")
    alert = page.get_by_role("alert").filter(has_text="This run could not be loaded")
    expect(alert).to_contain_text("not found")
    expect(alert.get_by_role("link", name="Back to the board")).to_be_visible()
