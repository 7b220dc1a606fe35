"""Signing in with a password or an API key, staying signed in across a
reload (refresh-token rotation), expiring cleanly, signing out, and
switching workspaces."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from browsing import Page, UiServer, card, expect, sign_in_with_key, sign_in_with_password

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def stored_session(page: Page) -> dict[str, object]:
    raw = page.evaluate("localStorage.getItem('swarmyard.session')")
    return json.loads(raw) if raw else {}


def test_password_sign_in_survives_a_reload_and_rotates_tokens(
    ui_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = open_page(ui_server)
    email = ui_server.person("ada@example.com", "member")
    sign_in_with_password(page, email)
    expect(page).to_have_url(re.compile(r"/board$"))
    expect(page.locator("#role-badge")).to_have_text("member")
    expect(page.locator("#live-status")).to_have_text("Live")
    first = stored_session(page)
    assert first["kind"] == "password"

    # An access token about to lapse is refreshed before the next call, and
    # the refresh token is rotated; the page reloads signed in.
    page.evaluate(
        "() => { const s = JSON.parse(localStorage.getItem('swarmyard.session'));"
        " s.expiresAt = Date.now(); localStorage.setItem('swarmyard.session', JSON.stringify(s)); }"
    )
    page.reload()
    expect(page.locator("#role-badge")).to_have_text("member")
    expect(page.locator("#live-status")).to_have_text("Live")
    second = stored_session(page)
    assert second["refresh"] != first["refresh"]
    assert second["access"] != first["access"]

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login\?reason=signed-out"))
    expect(page.locator("#login-notice")).to_have_text("You have signed out.")
    assert stored_session(page) == {}
    page.goto("/board")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fboard"))


def test_an_expired_session_ends_on_the_sign_in_page_and_comes_back(
    ui_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = open_page(ui_server)
    email = ui_server.person("grace@example.com", "member")
    sign_in_with_password(page, email)
    # Both tokens are dead, as after a week away or a revoked session.
    page.evaluate(
        "() => localStorage.setItem('swarmyard.session', JSON.stringify({kind: 'password',"
        " access: 'expired.jwt.token', refresh: 'srt_rt_nope_secret',"
        " expiresAt: Date.now() + 60000}))"
    )
    task = ui_server.task("Where was I", status="backlog")
    page.goto(f"/tasks/{task['id']}")
    expect(page).to_have_url(re.compile(r"/login\?reason=expired&next=%2Ftasks%2F"))
    expect(page.locator("#login-notice")).to_contain_text("Your session has expired")
    page.locator("#email").fill(email)
    page.locator("#password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/tasks/{task['id']}$"))
    expect(page.get_by_role("heading", name="Where was I")).to_be_visible()


def test_a_wrong_password_is_said_plainly(
    ui_server: UiServer, open_page: Callable[..., Page]
) -> None:
    page = open_page(ui_server)
    page.goto("/login")
    page.locator("#email").fill("nobody@example.com")
    page.locator("#password").fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        "Could not sign in: wrong e-mail address or password"
    )


def test_api_key_sign_in(ui_server: UiServer, open_page: Callable[..., Page]) -> None:
    page = open_page(ui_server)
    title = "Card seen with a key"
    ui_server.task(title, status="backlog")
    sign_in_with_key(page, ui_server.key("admin"))
    expect(page.locator("#role-badge")).to_have_text("admin")
    expect(card(page, title)).to_be_visible()
    assert stored_session(page)["kind"] == "key"
    page.reload()
    expect(card(page, title)).to_be_visible()


def test_a_refused_key_is_not_kept(ui_server: UiServer, open_page: Callable[..., Page]) -> None:
    page = open_page(ui_server)
    page.goto("/login")
    page.get_by_role("tab", name="API key").click()
    page.locator("#api-key").fill("sy_key_01nope_notasecret")
    page.get_by_role("button", name="Sign in with the key").click()
    expect(page.get_by_role("alert")).to_contain_text("Could not sign in")
    assert stored_session(page) == {}


def test_switching_workspaces(ui_server: UiServer, open_page: Callable[..., Page]) -> None:
    email = ui_server.person("lin@example.com", "member")
    pair = ui_server.api(
        "POST", "/auth/token", json={"email": email, "password": "correct horse battery staple"}
    )
    person = {"Authorization": f"Bearer {pair['access_token']}"}
    ui_server.api("POST", "/workspaces", json={"id": "side-project"}, headers=person)
    ui_server.api(
        "POST",
        "/tasks",
        json={"title": "Only in the side project", "type": "docs", "status": "backlog"},
        headers={**person, "X-Swarmyard-Workspace": "side-project"},
    )
    page = open_page(ui_server)
    sign_in_with_password(page, email, workspace="default")
    expect(page.locator("#role-badge")).to_have_text("member")
    expect(card(page, "Only in the side project")).to_have_count(0)
    page.get_by_label("Workspace").select_option("side-project")
    expect(card(page, "Only in the side project")).to_be_visible()
    expect(page.locator("#role-badge")).to_have_text("owner")
    # The live connection follows the workspace too.
    ui_server.api(
        "POST",
        "/tasks",
        json={"title": "Live in the side project", "type": "docs", "status": "backlog"},
        headers={**person, "X-Swarmyard-Workspace": "side-project"},
    )
    expect(card(page, "Live in the side project")).to_be_visible(timeout=1000)
