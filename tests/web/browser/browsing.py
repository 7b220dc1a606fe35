"""Helpers of the browser tests: a `swarmyard serve` process to set the scene
through the API, and the few ways a test finds things on a page."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from swarmyard.testing.cluster import clean_env, free_port

try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # the `browser` fixture skips or fails, saying why
    Locator = Page = Any  # type: ignore[misc,assignment]
    expect = None

T = TypeVar("T")
PASSWORD = "correct horse battery staple"
STARTUP_SECONDS = 30.0
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


@dataclass
class UiServer:
    """A `swarmyard serve` process and an owner's API client for setting the scene."""

    data_dir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> UiServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "swarmyard.cli", "serve", "--port", str(self.port)]
        with (self.data_dir / "server.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [*command, "--data-dir", str(self.data_dir)],
                env=clean_env(**self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:  # readiness probe, as an operator's would be
            assert self.proc.poll() is None, self.log()
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"server did not start:\n{self.log()}"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def log(self) -> str:
        return (self.data_dir / "server.log").read_text(errors="replace")[-5000:]

    @property
    def owner_key(self) -> str:
        key: str = json.loads((self.data_dir / "credentials.json").read_text())["api_key"]
        return key

    def api(self, method: str, path: str, *, key: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {key or self.owner_key}", **kw.pop("headers", {})}
        r = httpx.request(method, f"{self.url}/api/v1{path}", headers=headers, timeout=30, **kw)
        assert r.is_success, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    def person(self, email: str, role: str) -> str:
        """A member signing in with a password; answers the e-mail address."""
        name = email.split("@", maxsplit=1)[0]
        body = {"email": email, "role": role, "password": PASSWORD, "name": name}
        self.api("POST", "/workspaces/default/members", json=body)
        return email

    def key(self, role: str) -> str:
        made = self.api("POST", "/api-keys", json={"name": f"ui-{role}", "role": role})
        secret: str = made["key"]
        return secret

    def install(self, manifest: str) -> None:
        installed = {a["manifest_id"] for a in self.api("GET", "/agents")["items"]}
        if manifest not in installed:
            self.api("POST", "/agents", json={"manifest": manifest})

    def until(self, check: Callable[[], T | None], timeout: float = 30.0) -> T:
        """Re-check `check` whenever the board changes, until it answers
        something. Subscribed before the first check, so no change is missed."""
        import websockets.sync.client as ws_client

        url = f"{self.url.replace('http', 'ws')}/ws?access_token={self.owner_key}"
        deadline = time.monotonic() + timeout
        with ws_client.connect(url, open_timeout=10) as ws:
            ws.send(json.dumps({"subscribe": "board"}))
            ws.recv(timeout=10)  # the subscription's acknowledgement
            while (found := check()) is None:
                ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        return found

    def settle(self, task_id: str) -> dict[str, Any]:
        """Wait for the task to settle: its SSE stream ends when it does."""
        headers = {"Authorization": f"Bearer {self.owner_key}"}
        url = f"{self.url}/api/v1/tasks/{task_id}/stream"
        with httpx.stream("GET", url, headers=headers, timeout=60) as r:
            assert r.is_success, r.read()
            for _ in r.iter_lines():
                pass
        settled: dict[str, Any] = self.api("GET", f"/tasks/{task_id}")
        return settled

    def task(self, title: str, type_: str = "docs", **fields: Any) -> dict[str, Any]:
        task: dict[str, Any] = self.api(
            "POST", "/tasks", json={"title": title, "type": type_, **fields}
        )
        return task


@contextmanager
def serving(data_dir: Path, *, delay_ms: int, install: Iterable[str] = ()) -> Iterator[UiServer]:
    """A started server whose offline model thinks `delay_ms` per call, with
    agents of the `install` manifests; stopped afterwards."""
    env = {
        "SWARMYARD_OFFLINE_DELAY_MS": str(delay_ms),
        # The pages are under test, not the models: the scripted model only,
        # even where the local model is installed.
        "SWARMYARD_LOCAL_MODEL": "off",
        # One address signs in many times across the session; the limits
        # themselves are tested elsewhere.
        "SWARMYARD_RATE_LIMIT_AUTH_PER_IP": "1000/minute",
        "SWARMYARD_RATE_LIMIT_PER_IP": "100000/minute",
        "SWARMYARD_RATE_LIMIT_PER_PRINCIPAL": "100000/minute",
    }
    server = UiServer(data_dir, env).start()
    try:
        for manifest in install:
            server.install(manifest)
        yield server
    finally:
        server.stop()


class PageProblems:
    """Uncaught script errors and Content-Security-Policy refusals of a page:
    either means the UI is broken for its user, even if the test's checks pass."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on("pageerror", lambda exc: self.problems.append(f"uncaught: {exc}"))

        def console(message: Any) -> None:
            text = message.text
            if message.type == "error" and ("Content Security Policy" in text or "Refused" in text):
                self.problems.append(f"CSP: {text}")

        page.on("console", console)
        return page


def sign_in_with_password(
    page: Page, email: str, *, start: str = "/board", workspace: str = ""
) -> None:
    page.goto(start)
    expect(page).to_have_url(re.compile(r"/login"))
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#workspace").fill(workspace)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#role-badge")).to_be_visible()


def sign_in_with_key(page: Page, key: str, *, start: str = "/board") -> None:
    page.goto(start)
    page.get_by_role("tab", name="API key").click()
    page.locator("#api-key").fill(key)
    page.get_by_role("button", name="Sign in with the key").click()
    expect(page.locator("#role-badge")).to_be_visible()


def card(page: Page, title: str) -> Locator:
    return page.locator(".card", has=page.locator(".card-title", has_text=title))


def column(page: Page, status: str) -> Locator:
    return page.locator(f'section.column[data-status="{status}"]')
