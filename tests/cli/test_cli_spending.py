"""``budget``, ``usage``, ``providers``, ``routing`` and ``task estimate``
against a real server (the embedded platform under uvicorn on a loopback
port), so each command is checked against the API it speaks, not a copy."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, get_args

import httpx
import pytest
import typer
import uvicorn
from typer.testing import CliRunner, Result

from swarmyard.api.app import create_app
from swarmyard.cli import vocab
from swarmyard.cli.budgets import cents
from swarmyard.cli.main import app as cli_app
from swarmyard.cli.providers import model_spec
from swarmyard.domain import (
    DEFAULT_WORKSPACE,
    BudgetScope,
    FakeClock,
    LedgerEntry,
    ModelTier,
    OnExceed,
    ProviderKind,
    UsageGroup,
)
from swarmyard.runtime.wiring import Container, build
from swarmyard.testing import embedded_settings

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
SECRET = "sk-live-test-KEY-that-must-stay-hidden"
T = TypeVar("T")


@dataclass
class Live:
    url: str
    container: Container
    data_dir: Path
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the server's loop (the store's connections live there)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def http(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        key = json.loads((self.data_dir / "credentials.json").read_text())["api_key"]
        headers = {"Authorization": f"Bearer {key}"}
        return httpx.request(method, f"{self.url}/api/v1{path}", headers=headers, **kwargs)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    container = build(embedded_settings(tmp_path, port=port), clock=FakeClock(NOW))
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(container),  # starts and stops the platform with the server
            log_level="warning",
            ws="none",
            access_log=False,
            log_config=None,
            timeout_graceful_shutdown=1,
        )
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=loop.run_until_complete, args=(server.serve(sockets=[sock]),), daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:  # set once the lifespan (migrations, first key) is done
        assert thread.is_alive(), "the server thread died while starting"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield Live(f"http://127.0.0.1:{port}", container, container.settings.data_dir, loop)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        loop.close()
        sock.close()


Invoke = Callable[..., Result]


@pytest.fixture
def cli(live: Live) -> Invoke:
    def invoke(*args: str, input: str | None = None) -> Result:
        env = {
            "SWARMYARD_DATA_DIR": str(live.data_dir),
            "SWARMYARD_URL": None,
            "SWARMYARD_API_KEY": None,
            "SWARMYARD_WORKSPACE": None,
            "COLUMNS": "200",
        }
        return CliRunner().invoke(cli_app, ["--url", live.url, *args], input=input, env=env)

    return invoke


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output + (result.stderr or "")
    return result.stdout


def lines_with(text: str, word: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if word in line.split()]


# ------------------------------------------------------------------ budget


def test_budget_set_show_remove(cli: Invoke, live: Live) -> None:
    out = ok(
        cli(
            "budget", "set", "--role", "developer", "--monthly", "5.00", "--weekly", "1.5",
            "--on-exceed", "refuse",
        )
    )  # fmt: skip
    assert out.strip() == "budget of role developer: $5.00 a month and $1.50 a week, then refuse"
    [budget] = live.http("GET", "/budgets").json()["items"]
    assert (budget["monthly_cents"], budget["weekly_cents"]) == (500, 150)

    shown = ok(cli("budget", "show"))
    month, week = lines_with(shown, "developer")
    assert month[:6] == ["role", "developer", "month", "2026-11-01", "$5.00", "$0.0000"]
    assert week[:6] == ["role", "developer", "week", "2026-11-16", "$1.50", "$0.0000"]
    assert json.loads(ok(cli("--json", "budget", "show")))["items"] == [budget]

    assert ok(cli("budget", "remove", "--role", "developer")).strip() == (
        "removed the budget of role developer"
    )
    assert live.http("GET", "/budgets").json()["items"] == []
    again = cli("budget", "remove", "--role", "developer")
    assert again.exit_code == 1
    assert "not found" in again.stderr


def test_budget_scopes_by_name(cli: Invoke, live: Live) -> None:
    project = live.http("POST", "/projects", json={"name": "alpha"}).json()
    ok(cli("budget", "set", "--project", "alpha", "--weekly", "$1,250.50"))
    ok(cli("budget", "set", "--workspace-wide", "--monthly", "100"))
    listed = {
        (b["scope"], b["scope_id"], b["weekly_cents"], b["monthly_cents"])
        for b in live.http("GET", "/budgets").json()["items"]
    }
    assert listed == {("project", project["id"], 125_050, None), ("workspace", "", None, 10_000)}
    ok(cli("budget", "remove", "--workspace-wide"))
    ok(cli("budget", "remove", "--project", project["id"]))
    assert live.http("GET", "/budgets").json()["items"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "developer", "--monthly", "5.001"], "fraction of a cent"),
        (["--role", "developer", "--monthly", "five"], "not an amount in dollars"),
        (["--role", "developer", "--weekly", "-1"], "not an amount in dollars"),
        (["--role", "developer"], "give --monthly and/or --weekly"),
        (["--monthly", "5"], "say whose budget"),
        (["--role", "developer", "--agent", "a", "--monthly", "5"], "--role, --agent"),
    ],
)
def test_budget_usage_mistakes_send_nothing(
    cli: Invoke, live: Live, args: list[str], message: str
) -> None:
    result = cli("budget", "set", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert live.http("GET", "/budgets").json()["items"] == []


def test_a_refused_budget_says_why(cli: Invoke, live: Live) -> None:
    result = cli("budget", "set", "--role", "wizard-of-oz", "--monthly", "2000000000")
    assert result.exit_code == 1
    assert "monthly_cents: must be between 0 and" in result.stderr
    key = live.http("POST", "/api-keys", json={"name": "v", "role": "viewer"}).json()["key"]
    result = cli("--api-key", key, "budget", "set", "--role", "developer", "--monthly", "1")
    assert result.exit_code == 1
    assert "may not budget.write" in result.stderr
    assert live.http("GET", "/budgets").json()["items"] == []


# ------------------------------------------------------------------ usage


async def _spend(container: Container) -> None:
    async with container.store.unit_of_work(DEFAULT_WORKSPACE) as uow:
        for n, (role, cost, day) in enumerate(
            [("developer", 2_000_000, 17), ("developer", 500_000, 3), ("tester", 10_000, 17)]
        ):
            await uow.ledger.add(
                LedgerEntry(
                    id=f"led_{n}",
                    workspace_id=DEFAULT_WORKSPACE,
                    at=datetime(2026, 11, day, 9, tzinfo=UTC),
                    provider="openai",
                    model="gpt-4.1",
                    tokens_in=1000,
                    tokens_out=100,
                    cost_microusd=cost,
                    role=role,
                    task_type="bugfix",
                )
            )
        await uow.commit()


def test_usage_table_with_totals(cli: Invoke, live: Live) -> None:
    live.run(_spend(live.container))
    out = ok(cli("usage", "--by", "role"))
    assert out.splitlines()[0].split() == [
        "ROLE", "CALLS", "FAILED", "TOKENS", "IN", "TOKENS", "OUT", "CACHED", "COST",
    ]  # fmt: skip
    assert lines_with(out, "developer") == [["developer", "2", "0", "2000", "200", "0", "$2.5000"]]
    assert lines_with(out, "TOTAL") == [["TOTAL", "3", "0", "3000", "300", "0", "$2.5100"]]

    since = ok(cli("usage", "--by", "role", "--since", "2026-11-10", "--until", "2026-11-17"))
    assert lines_with(since, "TOTAL") == [["TOTAL", "2", "0", "2000", "200", "0", "$2.0100"]]
    assert "no model calls" in ok(cli("usage", "--since", "2026-12-01"))

    report = json.loads(ok(cli("usage", "--by", "day", "--json")))
    assert report == json.loads(ok(cli("--json", "usage", "--by", "day")))
    assert [(i["key"], i["calls"]) for i in report["items"]] == [
        ("2026-11-17", 2),
        ("2026-11-03", 1),
    ]
    assert report["totals"]["cost_usd"] == 2.51


def test_usage_mistakes(cli: Invoke) -> None:
    result = cli("usage", "--since", "last tuesday")
    assert result.exit_code == 1
    assert "since: 'last tuesday' is not a date" in result.stderr
    result = cli("usage", "--by", "colour")
    assert result.exit_code == 2  # refused by the command line before any request


# ------------------------------------------------------------------ providers and routing


def test_providers_add_list_remove_with_the_key_from_stdin(cli: Invoke, live: Live) -> None:
    result = cli(
        "providers", "add", "gpu-box", "--kind", "openai-compatible",
        "--base-url", "http://127.0.0.1:9/v1",
        "--model", "qwen2.5-coder:32b", "--model", "llama3.1:8b:fast",
        "--api-key-stdin",
        input=SECRET + "\n",
    )  # fmt: skip
    out = ok(result)
    assert out.strip() == (
        "added provider gpu-box (openai-compatible, key stored): "
        "qwen2.5-coder:32b (mid), llama3.1:8b (fast)"
    )
    listed = ok(cli("providers", "list"))
    [row] = lines_with(listed, "gpu-box")
    assert row[:4] == ["gpu-box", "openai-compatible", "api", "stored"]
    assert lines_with(listed, "offline")[0][:4] == ["offline", "offline", "builtin", "none"]
    as_json = ok(cli("--json", "providers", "list"))
    for text in (out, listed, as_json, result.stderr):
        assert SECRET not in text

    ok(cli("providers", "remove", "gpu-box"))
    names = [p["name"] for p in live.http("GET", "/providers").json()["items"]]
    assert names == ["offline"]
    again = cli("providers", "remove", "gpu-box")
    assert again.exit_code == 1
    assert "not found" in again.stderr


def test_providers_add_with_prices_and_refusals(cli: Invoke, live: Live) -> None:
    ok(
        cli(
            "providers", "add", "remote", "--kind", "openai-compatible",
            "--base-url", "https://llm.example.com/v1", "--model", "house:premium",
            "--input-price", "1.5", "--output-price", "6",
        )
    )  # fmt: skip
    [remote] = [p for p in live.http("GET", "/providers").json()["items"] if p["name"] == "remote"]
    assert remote["models"][0]["price"]["output_per_mtok"] == 6.0
    assert remote["models"][0]["tier"] == "premium"
    assert remote["key"] == "none"

    result = cli("providers", "add", "offline", "--kind", "ollama", "--model", "x")
    assert result.exit_code == 1
    assert "base_url" in result.stderr  # the server names what is missing
    result = cli("providers", "add", "vendor", "--kind", "openai", "--model", "gpt-4.1")
    assert result.exit_code == 1
    assert "api_key" in result.stderr
    result = cli("providers", "add", "x", "--kind", "openai", "--model", "m", "--api-key-stdin")
    assert result.exit_code == 2
    assert "the API key is empty" in result.stderr


def test_routing_show(cli: Invoke, live: Live) -> None:
    out = ok(cli("routing", "show"))
    assert out.splitlines()[0] == "routing rules from: default"
    assert "critical work" in out
    assert "complexity critical" in out
    rules = {"rules": [{"name": "all fast", "tier": "fast"}]}
    assert live.http("PUT", "/routing", json=rules).status_code == 200
    out = ok(cli("routing", "show"))
    assert out.splitlines()[0] == "routing rules from: workspace"
    assert lines_with(out, "all") == [["all", "fast", "any", "call", "fast", "-"]]


# ------------------------------------------------------------------ task estimate


def test_task_estimate_takes_the_options_of_create_and_creates_nothing(
    cli: Invoke, live: Live
) -> None:
    out = ok(
        cli(
            "task", "estimate", "Add CSV export", "--type", "bugfix", "--complexity", "high",
            "--priority", "urgent", "--backlog",
        )
    )  # fmt: skip
    fields = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in out.splitlines()[1:]}
    assert out.splitlines()[0] == "estimate: Add CSV export"
    assert fields["role"] == "developer"
    assert fields["model"] == "offline:swarmyard-offline-1"
    assert fields["expected"] == "$0.0000"
    assert fields["budget"] == "normal"
    assert live.http("GET", "/tasks").json()["items"] == []
    found = json.loads(ok(cli("--json", "task", "estimate", "x", "--type", "docs")))
    assert found["role"] == "documenter"
    bad = cli("task", "estimate", "x", "--type", "juggling")
    assert bad.exit_code == 1
    assert "type" in bad.stderr


# ------------------------------------------------------------------ parsing


def test_dollars_become_whole_cents() -> None:
    assert [cents(v) for v in ("5", "5.00", "0.01", "$1,250.50", " 7 ")] == [
        500, 500, 1, 125_050, 700,
    ]  # fmt: skip
    assert cents(None) is None
    for bad in ("0.001", "nan", "-0.01", "1e400x", "inf"):
        with pytest.raises(typer.BadParameter):
            cents(bad)


def test_model_names_keep_their_colons() -> None:
    assert model_spec("llama3.1:8b") == {"name": "llama3.1:8b"}
    assert model_spec("llama3.1:8b:fast") == {"name": "llama3.1:8b", "tier": "fast"}
    assert model_spec("gpt-4.1:premium") == {"name": "gpt-4.1", "tier": "premium"}
    assert model_spec("mid") == {"name": "mid"}


def test_command_line_words_match_the_domain() -> None:
    assert set(get_args(vocab.BudgetScopeName)) == {s.value for s in BudgetScope}
    assert set(get_args(vocab.OnExceedName)) == {o.value for o in OnExceed}
    assert set(get_args(vocab.UsageGroupName)) == {g.value for g in UsageGroup}
    assert set(get_args(vocab.ProviderKindName)) == {k.value for k in ProviderKind}
    assert set(get_args(vocab.ModelTierName)) == {t.value for t in ModelTier}
