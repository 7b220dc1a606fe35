"""A run held for approval waits on the board and in its console; a member
approves it there and the run goes on; a viewer sees the request and no
buttons."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from browsing import Page, UiServer, card, expect, serving, sign_in_with_key

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def careful_server(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[UiServer]:
    """The project manager's model checks the board (list_tasks) before it
    plans; a policy makes that call wait for a person."""
    data_dir = tmp_path_factory.mktemp("ui-approval")
    with serving(data_dir, delay_ms=20, install=["project-manager"]) as server:
        policy = {"name": "ask-first", "approval_tools": ["list_tasks"]}
        server.api("POST", "/policies", json=policy)
        yield server


def parked(server: UiServer, title: str) -> str:
    """The task's run id once it waits for approval (read through the API)."""
    task = server.task(title, "planning")

    def waiting_run() -> str | None:
        runs = server.api("GET", f"/tasks/{task['id']}/runs")["items"]
        return str(runs[0]["id"]) if runs and runs[0]["status"] == "awaiting_approval" else None

    return server.until(waiting_run)


def test_a_member_approves_from_the_console_and_the_run_goes_on(
    careful_server: UiServer, open_page: Callable[..., Page]
) -> None:
    run_id = parked(careful_server, "Plan the launch")
    page = open_page(careful_server)
    sign_in_with_key(page, careful_server.key("member"))
    waiting = card(page, "Plan the launch")
    expect(waiting.locator(".badge", has_text="awaiting approval")).to_be_visible()
    page.goto(f"/runs/{run_id}")
    expect(page.locator("[data-run-status]")).to_have_text("Awaiting approval")
    panel = page.get_by_role("region", name="Waiting for approval: list_tasks")
    expect(panel).to_contain_text("policy 'ask-first': approval_tools 'list_tasks'")
    log = page.get_by_role("log", name="Run events")
    expect(log.locator(".event-type-approval_requested")).to_be_visible()
    panel.get_by_label("Comment (goes into the run's log)").fill("fine to look")
    panel.get_by_role("button", name="Approve").click()
    expect(log.locator(".event-type-approval_decided")).to_contain_text("approved by")
    expect(log.locator(".event-type-approval_decided")).to_contain_text("fine to look")
    expect(page.locator("[data-run-status]")).to_have_text("Succeeded", timeout=15_000)
    expect(panel).to_be_hidden()
    (decided,) = careful_server.api("GET", f"/approvals?run_id={run_id}")["items"]
    assert (decided["status"], decided["comment"]) == ("approved", "fine to look")


def test_a_viewer_sees_the_request_and_no_decision_buttons(
    careful_server: UiServer, open_page: Callable[..., Page]
) -> None:
    run_id = parked(careful_server, "Plan the retro")
    page = open_page(careful_server)
    sign_in_with_key(page, careful_server.key("viewer"), start=f"/runs/{run_id}")
    panel = page.get_by_role("region", name="Waiting for approval: list_tasks")
    expect(panel).to_contain_text("A member of the workspace decides.")
    expect(panel.get_by_role("button")).to_have_count(0)
