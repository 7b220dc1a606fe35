"""The agents page: installing an agent whose dependency is missing is
explained and the dependency offered; agents are scaled, paused, resumed and
uninstalled (with confirmation); the learning profile is drawn per task type;
a viewer gets no control."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browsing import SCREENSHOTS, Locator, Page, UiServer, expect, serving, sign_in_with_key

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[UiServer]:
    """A platform with no agent installed, this module's to change."""
    with serving(tmp_path_factory.mktemp("ui-agents"), delay_ms=50) as server:
        yield server


def agents_page(server: UiServer, open_page: Callable[..., Page], role: str = "admin") -> Page:
    page = open_page(server)
    sign_in_with_key(page, server.key(role), start="/agents")
    expect(page.locator("#agents")).not_to_have_attribute("aria-busy", "true")
    return page


def manifest_card(page: Page, name: str) -> Locator:
    return page.locator(".manifest-card", has=page.get_by_role("heading", name=name, exact=True))


def agent_card(page: Page, name: str) -> Locator:
    return page.locator(".agent-card", has=page.get_by_role("heading", name=name, exact=True))


def installed(server: UiServer) -> dict[str, dict[str, object]]:
    return {a["name"]: a for a in server.api("GET", "/agents")["items"]}


def test_a_missing_dependency_is_explained_and_offered(
    bare_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = agents_page(bare_server, open_page)
    expect(page.locator("#installed-agents")).to_contain_text("No agent is installed")
    tester = manifest_card(page, "Tester")
    expect(tester).to_contain_text("Needs a developer")
    tester.get_by_role("button", name="Install", exact=True).click()
    refusal = tester.get_by_role("alert")
    expect(refusal).to_contain_text("tester needs developer installed first")
    assert installed(bare_server) == {}  # the refused install changed nothing
    tester.get_by_role("button", name="Install Developer, then Tester").click()
    expect(agent_card(page, "developer-1")).to_be_visible()
    expect(agent_card(page, "tester-1")).to_be_visible()
    expect(refusal).to_have_count(0)
    assert set(installed(bare_server)) == {"developer-1", "tester-1"}


def test_an_agent_is_scaled_paused_resumed_and_uninstalled(
    bare_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = agents_page(bare_server, open_page)
    manifest_card(page, "Documenter").get_by_label("Replicas of Documenter").fill("2")
    manifest_card(page, "Documenter").get_by_role("button", name="Install", exact=True).click()
    card = agent_card(page, "documenter-1")
    expect(card).to_contain_text("of 2 running")

    card.get_by_label("Replicas of documenter-1").fill("3")
    card.get_by_role("button", name="Scale").click()
    expect(card).to_contain_text("of 3 running")
    assert installed(bare_server)["documenter-1"]["replicas"] == 3
    # More than the manifest allows is refused by the form, and nothing is sent.
    card.get_by_label("Replicas of documenter-1").fill("9")
    card.get_by_role("button", name="Scale").click()
    expect(card).to_contain_text("of 3 running")
    assert installed(bare_server)["documenter-1"]["replicas"] == 3

    card.get_by_role("button", name="Pause").click()
    expect(card.locator(".badge", has_text="inactive")).to_be_visible()
    expect(card.get_by_role("button", name="Resume")).to_be_focused()
    assert installed(bare_server)["documenter-1"]["status"] == "inactive"
    card.get_by_role("button", name="Resume").click()
    expect(card.locator(".badge", has_text="active")).to_be_visible()

    card.get_by_role("button", name="Uninstall").click()
    dialog = page.get_by_role("dialog", name="Uninstall documenter-1?")
    dialog.get_by_role("button", name="Keep it").click()
    expect(card).to_be_visible()
    card.get_by_role("button", name="Uninstall").click()
    dialog.get_by_role("button", name="Uninstall").click()
    expect(card).to_have_count(0)
    assert "documenter-1" not in installed(bare_server)


def test_a_change_made_elsewhere_shows_live(
    bare_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = agents_page(bare_server, open_page)
    expect(page.locator("#live-status")).to_have_text("Live")
    bare_server.install("monitor")
    expect(agent_card(page, "monitor-1")).to_be_visible(timeout=1000)


def test_the_learning_profile_is_drawn_per_task_type(
    ui_server: UiServer, open_page: Callable[..., Page]
) -> None:
    done = ui_server.settle(ui_server.task("Fix the date parser", "bugfix")["id"])
    assert done["status"] == "done"
    page = agents_page(ui_server, open_page, role="member")
    card = agent_card(page, "developer-1")
    card.locator("summary", has_text="Learning profile").click()
    chart = card.get_by_role("list", name="Success rate by task type")
    row = chart.locator("li", has_text="bugfix")
    expect(row).to_be_visible()
    expect(row).to_contain_text("100% of")
    expect(card).to_contain_text("All types:")


def test_a_viewer_gets_no_agent_controls(
    ui_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = agents_page(ui_server, open_page, role="viewer")
    expect(agent_card(page, "developer-1")).to_be_visible()
    expect(page.get_by_role("button", name="Install")).to_have_count(0)
    expect(page.get_by_role("button", name="Scale")).to_have_count(0)
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    expect(page.get_by_role("button", name="Uninstall")).to_have_count(0)


def test_screenshot_of_the_agents_page(ui_server: UiServer, open_page: Callable[..., Page]) -> None:
    page = agents_page(ui_server, open_page)
    card = agent_card(page, "developer-1")
    card.locator("summary", has_text="Learning profile").click()
    expect(card.get_by_role("list", name="Success rate by task type")).to_be_visible()
    page.mouse.move(0, 0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "agents.png"))


def test_the_agents_page_fits_a_phone(ui_server: UiServer, open_page: Callable[..., Page]) -> None:
    page = open_page(ui_server, width=390, height=844, color_scheme="dark")
    sign_in_with_key(page, ui_server.key("admin"), start="/agents")
    expect(agent_card(page, "developer-1")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(Path(ui_server.data_dir) / "agents-phone.png"), full_page=True)
