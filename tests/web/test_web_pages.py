"""The page shells: served to browsers under the strict CSP, with no inline
script, style or handler, and every asset they name served as what it is."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from swarmyard.api.app import create_app
from swarmyard.api.hardening import DEFAULT_CSP

PAGES = [
    "/login",
    "/board",
    "/agents",
    "/costs",
    "/schedules",
    "/audit",
    "/tasks/task_01abc",
    "/runs/run_01abc",
]


class Shell(HTMLParser):
    """What a page shell holds that the CSP cares about."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.inline_script = False
        self.styles: list[str] = []
        self.handlers: list[str] = []
        self.assets: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        if "style" in named:
            self.styles.append(tag)
        if tag == "style":
            self.styles.append("<style>")
        if tag == "script":
            self.scripts.append(named)
            self._in_script = True
        for name in ("src", "href"):
            value = named.get(name)
            if value and value.startswith("/static/"):
                self.assets.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script = True


def parse(html: str) -> Shell:
    shell = Shell()
    shell.feed(html)
    return shell


@pytest.mark.parametrize("path", PAGES)
async def test_pages_are_served_under_the_strict_policy(site: httpx.AsyncClient, path: str) -> None:
    r = await site.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == DEFAULT_CSP
    assert "unsafe-inline" not in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    # A shell names assets of its own version: it must not be kept stale.
    assert r.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", PAGES)
async def test_pages_have_no_inline_script_style_or_handler(
    site: httpx.AsyncClient, path: str
) -> None:
    shell = parse((await site.get(path)).text)
    assert shell.scripts, "every page loads its module"
    assert all(s.get("src", "").startswith("/static/v-") for s in shell.scripts)  # type: ignore[union-attr]
    assert not shell.inline_script
    assert shell.styles == []
    assert shell.handlers == []
    assert any(s.get("type") == "module" for s in shell.scripts)


async def test_every_asset_a_page_names_is_served_as_what_it_is(site: httpx.AsyncClient) -> None:
    assets = {a for path in PAGES for a in parse((await site.get(path)).text).assets}
    kinds = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    assert {a.rsplit(".", 1)[-1] for a in assets} == {"js", "css", "svg"}
    for asset in sorted(assets):
        r = await site.get(asset)
        assert r.status_code == 200, asset
        suffix = "." + asset.rsplit(".", 1)[-1]
        assert r.headers["content-type"].startswith(kinds[suffix]), asset
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert r.headers["x-content-type-options"] == "nosniff"


async def test_assets_of_another_version_must_be_revalidated(site: httpx.AsyncClient) -> None:
    stale = await site.get("/static/v-000000000000/css/base.css")
    plain = await site.get("/static/js/core/api.js")
    assert stale.status_code == plain.status_code == 200
    assert stale.headers["cache-control"] == plain.headers["cache-control"] == "no-cache"
    assert plain.headers["content-type"].startswith("text/javascript")
    missing = await site.get("/static/js/nowhere.js")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


async def test_the_root_goes_to_the_board(site: httpx.AsyncClient) -> None:
    r = await site.get("/")
    assert r.status_code == 302
    assert r.headers["location"] == "/board"


async def test_a_mistyped_address_is_a_page_for_people_and_json_for_programs(
    site: httpx.AsyncClient,
) -> None:
    page = await site.get("/bored", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Nothing here" in page.text
    assert parse(page.text).handlers == []
    api = await site.get("/api/v1/nowhere", headers={"Accept": "text/html"})
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"
    program = await site.get("/bored")
    assert program.json()["error"]["code"] == "not_found"


async def test_ids_from_the_address_are_escaped(site: httpx.AsyncClient) -> None:
    r = await site.get('/tasks/"><img src=x onerror=alert(1)>')
    assert r.status_code == 200
    assert "<img src=x" not in r.text
    assert parse(r.text).handlers == []
    assert "&#34;&gt;&lt;img" in r.text


async def test_pages_stay_out_of_the_api_schema(site: httpx.AsyncClient) -> None:
    paths = set((await site.get("/api/v1/openapi.json")).json()["paths"])
    assert "/api/v1/board" in paths
    assert not paths & {
        "/",
        "/login",
        "/board",
        "/agents",
        "/costs",
        "/schedules",
        "/audit",
        "/tasks/{task_id}",
        "/runs/{run_id}",
    }


async def test_static_files_spend_no_rate_limit(tmp_path: Path) -> None:
    from swarmyard.runtime.wiring import build
    from swarmyard.testing import embedded_settings

    container = build(embedded_settings(tmp_path, rate_limit_per_ip="2/minute"))
    app = create_app(container, manage_lifecycle=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assets = [await client.get("/static/css/base.css") for _ in range(5)]
        assert {r.status_code for r in assets} == {200}
        pages = [(await client.get("/login")).status_code for _ in range(3)]
        assert pages == [200, 200, 429]
    await container.store.close()


async def test_navigation_items_needing_an_action_start_hidden(site: httpx.AsyncClient) -> None:
    """The shell cannot know who asks: items such as the audit log are shown
    by ui/shell.js only when the session's /auth/me lists their action."""
    html = (await site.get("/schedules")).text
    assert '<li data-action="audit.read" hidden><a href="/audit">Audit</a></li>' in html
    assert '<li><a href="/schedules" aria-current="page">Schedules</a></li>' in html
    audit = (await site.get("/audit")).text
    assert 'aria-current="page">Audit</a>' in audit


async def test_the_schedule_form_offers_the_servers_zones(site: httpx.AsyncClient) -> None:
    html = (await site.get("/schedules")).text
    assert '<option value="Europe/Berlin"></option>' in html
    assert '<option value="once">' in html
    audit = (await site.get("/audit")).text
    assert '<option value="schedule."></option>' in audit
    assert '<option value="audit.read"></option>' in audit
