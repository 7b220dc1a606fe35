"""The web UI in a real headless Chromium against real `swarmyard serve` processes.

Debian's chromium is driven through Playwright's Python package; no browser
is downloaded. Without either, the tests skip saying what is missing, unless
SWARMYARD_REQUIRE_SERVICES=1 makes that a failure (as for the database and
bus servers, see tests/conftest.py).

Two servers are shared by the whole session: `ui_server`, whose offline
model thinks for 1.5 s per call so a run's log can be watched as it streams, and
`slow_server`, whose model never answers in time, so a run stays running
until someone stops it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from browsing import PageProblems, UiServer, serving

from swarmyard.testing.skips import unavailable

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page


CHROMIUM = os.environ.get("SWARMYARD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Checked before any server starts, so a machine without a browser skips at once."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).is_file():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    """One Chromium per test module: Playwright's sync API keeps its own event
    loop, which must not outlive the module next to pytest-asyncio's."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
    except Exception as exc:
        playwright.stop()
        unavailable(f"Chromium at {chromium} did not start: {exc}")
    yield launched
    launched.close()
    playwright.stop()


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[UiServer]:
    with serving(tmp_path_factory.mktemp("ui"), delay_ms=1500, install=["developer"]) as server:
        yield server


@pytest.fixture(scope="session")
def slow_server(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[UiServer]:
    data_dir = tmp_path_factory.mktemp("ui-slow")
    with serving(data_dir, delay_ms=600_000, install=["developer"]) as server:
        yield server


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """`open_page(server, width=1280, height=800)`: a fresh browser profile's page."""
    contexts: list[BrowserContext] = []
    watcher = PageProblems()

    def open_(server: UiServer, *, width: int = 1280, height: int = 800, **kw: Any) -> Page:
        context = browser.new_context(
            base_url=server.url, viewport={"width": width, "height": height}, **kw
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return watcher.watch(context.new_page())

    yield open_
    for context in contexts:
        context.close()
    assert watcher.problems == []
