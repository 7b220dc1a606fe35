"""The costs page: budgets with utilisation against the 80% and 100% marks,
set, changed and removed by an admin; usage by provider, model, role and day;
the most expensive tasks; a viewer reads it all and changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browsing import SCREENSHOTS, Locator, Page, UiServer, expect, serving, sign_in_with_key

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TASKS = [("Fix the CSV export", "bugfix"), ("Tidy the webhook retries", "refactor")]


@pytest.fixture(scope="module")
def costs_server(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[UiServer]:
    """A platform whose offline model has a price, so the work it did cost something."""
    data_dir = tmp_path_factory.mktemp("ui-costs")
    with serving(data_dir, delay_ms=20, install=["developer"]) as server:
        price = {"input_per_mtok": 300, "output_per_mtok": 1500}
        server.api("PUT", "/prices/offline:swarmyard-offline-1", json=price)
        for title, type_ in TASKS:
            assert server.settle(server.task(title, type_)["id"])["status"] == "done"
        yield server


def costs_page(server: UiServer, open_page: Callable[..., Page], role: str = "admin") -> Page:
    page = open_page(server)
    sign_in_with_key(page, server.key(role), start="/costs")
    expect(page.locator("#costs")).not_to_have_attribute("aria-busy", "true")
    return page


def spent_cents(server: UiServer) -> float:
    cost: float = server.api("GET", "/usage?group_by=role")["totals"]["cost_usd"]
    assert cost > 0
    return cost * 100


def budget(page: Page, name: str) -> Locator:
    return page.get_by_role("article", name=name)


def test_an_admin_sets_changes_and_removes_a_budget(
    costs_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = costs_page(costs_server, open_page)
    expect(page.locator("#budgets")).to_contain_text("No budget is set")
    # A limit the work so far has used 90% of: past the 80% mark, short of 100%.
    limit_dollars = round(spent_cents(costs_server) / 0.9) / 100
    form = page.get_by_role("form", name="Set a budget")
    form.get_by_label("Scope").select_option("role")
    form.get_by_label("Which one").select_option("developer")
    form.get_by_label("Monthly limit in dollars").fill(f"{limit_dollars:.2f}")
    form.get_by_role("button", name="Set budget").click()
    card = budget(page, "Role: developer")
    meter = card.get_by_role("meter", name="Role: developer, this month")
    expect(meter).to_be_visible()
    assert 85 <= int(meter.get_attribute("aria-valuenow") or 0) <= 95
    expect(card).to_contain_text("economy")
    stored = costs_server.api("GET", "/budgets")["items"]
    assert [(b["scope"], b["scope_id"]) for b in stored] == [("role", "developer")]

    card.locator("summary", has_text="Change").click()
    card.get_by_label("Monthly limit in dollars").fill(f"{limit_dollars * 10:.2f}")
    card.get_by_role("button", name="Save").click()
    expect(card).to_contain_text("normal")
    expect(meter).to_have_attribute("aria-valuenow", "9")

    card.get_by_role("button", name="Remove").click()
    page.get_by_role("dialog", name="Remove this budget?").get_by_role(
        "button", name="Remove"
    ).click()
    expect(card).to_have_count(0)
    assert costs_server.api("GET", "/budgets")["items"] == []


def test_a_refused_budget_shows_the_reason_and_changes_nothing(
    costs_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = costs_page(costs_server, open_page)
    form = page.get_by_role("form", name="Set a budget")
    form.get_by_label("Scope").select_option("workspace")
    form.get_by_label("Weekly limit in dollars").fill("20000000")  # above the API's maximum
    form.get_by_role("button", name="Set budget").click()
    expect(page.get_by_role("alert").filter(has_text="Could not set the budget")).to_contain_text(
        "weekly_cents"
    )
    assert costs_server.api("GET", "/budgets")["items"] == []


def test_usage_shows_where_the_money_went(
    costs_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = costs_page(costs_server, open_page, role="viewer")
    expect(page.get_by_role("list", name="Cost by provider")).to_contain_text("offline")
    expect(page.get_by_role("list", name="Cost by model")).to_contain_text("swarmyard-offline-1")
    expect(page.get_by_role("list", name="Cost by role")).to_contain_text("developer")
    expect(page.get_by_role("list", name="Cost by day").locator("li")).to_have_count(30)
    tasks = page.get_by_role("list", name="Most expensive tasks")
    for title, _ in TASKS:
        expect(tasks.get_by_role("link", name=title)).to_be_visible()
    expect(page.get_by_role("list", name="Most expensive runs").get_by_role("link")).to_have_count(
        len(TASKS)
    )
    # A viewer reads everything and is offered no change.
    expect(page.get_by_role("form")).to_have_count(0)
    expect(page.get_by_role("button", name="Remove")).to_have_count(0)


def test_screenshot_of_the_costs_page(
    costs_server: UiServer, open_page: Callable[..., Page]
) -> None:
    cents = spent_cents(costs_server)
    for role, share in (("developer", 0.6), ("tester", 3.0)):
        body = {"scope": "role", "scope_id": role, "monthly_cents": max(1, round(cents / share))}
        costs_server.api("PUT", "/budgets", json=body)
    body = {"scope": "workspace", "monthly_cents": round(cents * 4), "weekly_cents": round(cents)}
    costs_server.api("PUT", "/budgets", json=body)
    page = costs_page(costs_server, open_page)
    expect(budget(page, "Whole workspace")).to_be_visible()
    page.mouse.move(0, 0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "costs.png"), full_page=True)
    for scope in ("role/developer", "role/tester", "workspace"):
        costs_server.api("DELETE", f"/budgets/{scope}")


def test_the_costs_page_fits_a_phone(
    costs_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = open_page(costs_server, width=390, height=844, color_scheme="dark")
    sign_in_with_key(page, costs_server.key("admin"), start="/costs")
    expect(page.get_by_role("list", name="Cost by role")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(Path(costs_server.data_dir) / "costs-phone.png"), full_page=True)
