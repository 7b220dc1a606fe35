"""The http.fetch tool (HttpFetchTool) over the in-memory fetcher: real rules, canned pages."""

from __future__ import annotations

import json

import pytest

from swarmyard.adapters.net import MemoryHttpFetcher
from swarmyard.adapters.tools import HttpFetchTool
from swarmyard.ports import Tool, ToolContext, ToolError

CTX = ToolContext("ws", "run-1", "task-1", "developer")


@pytest.fixture
def fetcher() -> MemoryHttpFetcher:
    f = MemoryHttpFetcher(
        names={"docs.example": ["93.184.216.34"], "intranet.example": ["10.1.1.1"]}
    )
    f.route("https://docs.example/page", "é" * 50, content_type="text/html; charset=utf-8")
    f.route(
        "https://docs.example/latin",
        "café".encode("latin-1"),
        content_type="text/plain; charset=latin-1",
    )
    f.route("https://docs.example/logo.png", b"\x89PNG" + bytes(100), content_type="image/png")
    f.route("https://docs.example/gone", "no", status=410)
    f.redirect("https://docs.example/old", "https://docs.example/page", status=301)
    f.redirect("https://docs.example/leak", "http://intranet.example/admin")
    return f


async def call(tool: HttpFetchTool, **args: object) -> dict[str, object]:
    answer: dict[str, object] = json.loads(await tool.call(dict(args), CTX))
    return answer


def test_it_is_a_tool_that_declares_egress_and_untrusted_content(
    fetcher: MemoryHttpFetcher,
) -> None:
    tool: Tool = HttpFetchTool(fetcher)
    assert tool.spec.name == "http.fetch"
    assert tool.spec.effects == frozenset({"egress", "untrusted_content"})
    assert tool.spec.parameters["required"] == ["url"]


async def test_text_comes_back_with_status_and_type_cut_at_max_chars(
    fetcher: MemoryHttpFetcher,
) -> None:
    tool = HttpFetchTool(fetcher, max_chars=30)
    answer = await call(tool, url="https://docs.example/page")
    assert answer["status"] == 200
    assert answer["content_type"] == "text/html; charset=utf-8"
    assert answer["text"] == "é" * 30
    assert answer["truncated"] is True
    shorter = await call(tool, url="https://docs.example/page", max_chars=5)
    assert shorter["text"] == "é" * 5
    wider = await call(tool, url="https://docs.example/page", max_chars=10_000)
    assert wider["text"] == "é" * 30  # the tool's own cap holds


async def test_the_charset_is_honoured_and_binary_is_not_shown(fetcher: MemoryHttpFetcher) -> None:
    tool = HttpFetchTool(fetcher)
    assert (await call(tool, url="https://docs.example/latin"))["text"] == "café"
    image = await call(tool, url="https://docs.example/logo.png")
    assert image["text"] is None
    assert image["bytes"] == 104
    assert "binary" in str(image["note"])


async def test_redirects_and_error_statuses_are_reported(fetcher: MemoryHttpFetcher) -> None:
    tool = HttpFetchTool(fetcher)
    moved = await call(tool, url="https://docs.example/old")
    assert moved["url"] == "https://docs.example/page"
    assert moved["redirects"] == ["https://docs.example/old"]
    assert (await call(tool, url="https://docs.example/gone"))["status"] == 410


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://0x7f000001/", "loopback"),
        ("http://intranet.example/", "private"),
        ("https://docs.example/leak", "private"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://docs.example/", "scheme"),
    ],
)
async def test_refusals_reach_the_model_as_errors_naming_the_rule(
    fetcher: MemoryHttpFetcher, url: str, rule: str
) -> None:
    with pytest.raises(ToolError, match=rf"refused \({rule}\)"):
        await HttpFetchTool(fetcher).call({"url": url}, CTX)
    assert all(hop.target.host.name == "docs.example" for hop in fetcher.sent)


@pytest.mark.parametrize(
    "args", [{}, {"url": ""}, {"url": 7}, {"url": "https://docs.example/page", "max_chars": 0}]
)
async def test_bad_arguments_are_refused(
    fetcher: MemoryHttpFetcher, args: dict[str, object]
) -> None:
    with pytest.raises(ToolError):
        await HttpFetchTool(fetcher).call(args, CTX)
    assert fetcher.sent == []
