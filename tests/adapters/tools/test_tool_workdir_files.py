"""The project-file tools (fs.read, fs.write, fs.list, fs.search) against real
directories: confinement to the project, atomic writes, `.git` left alone, caps."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swarmyard.adapters.tools import (
    ListFilesTool,
    ReadFileTool,
    SearchFilesTool,
    WriteFileTool,
    file_tools,
)
from swarmyard.adapters.tools import workdir_files as module
from swarmyard.ports import Tool, ToolContext, ToolError
from swarmyard.testing.sandbox import scratch_dir


@pytest.fixture
def project() -> Iterator[Path]:
    with scratch_dir("swarmyard-project-") as path:
        (path / "src").mkdir()
        (path / "src" / "app.py").write_text("import os\n\ndef main():\n    return 42\n")
        (path / "README.md").write_text("# Demo\nRun main() to get 42.\n")
        (path / ".git").mkdir()
        (path / ".git" / "config").write_text("[remote]\nurl = https://token@host/x\n")
        yield path


@pytest.fixture
def outside() -> Iterator[Path]:
    with scratch_dir("swarmyard-outside-") as path:
        (path / "secret.txt").write_text("top secret\n")
        yield path


def ctx(workdir: Path | None) -> ToolContext:
    return ToolContext(
        "ws", "run-1", "task-1", "developer", workdir=str(workdir) if workdir else None
    )


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def call(tool: Tool, workdir: Path | None, **args: Any) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(await tool.call(args, ctx(workdir)))
    return answer


def test_the_four_tools_declare_their_names_and_effects() -> None:
    tools = file_tools()
    assert sorted(tools) == ["fs.list", "fs.read", "fs.search", "fs.write"]
    assert tools["fs.write"].spec.effects == frozenset({"side_effect"})
    for name in ("fs.read", "fs.list", "fs.search"):
        assert tools[name].spec.effects == frozenset({"reads_private"})


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        (ReadFileTool(), {"path": "README.md"}),
        (WriteFileTool(), {"path": "a.txt", "content": "x"}),
        (ListFilesTool(), {}),
        (SearchFilesTool(), {"pattern": "x"}),
    ],
)
async def test_without_a_project_directory_every_tool_refuses(
    tool: Tool, args: dict[str, Any]
) -> None:
    with pytest.raises(ToolError, match="the task's project has no working directory"):
        await tool.call(args, ctx(None))


# --- confinement ---------------------------------------------------------------


def _escapes(project: Path, outside: Path) -> list[str]:
    return [
        "../" + outside.name + "/secret.txt",
        "src/../../" + outside.name + "/secret.txt",
        str(outside / "secret.txt"),
        "/etc/passwd",
    ]


async def test_paths_leading_out_of_the_project_are_refused_by_every_tool(
    project: Path, outside: Path
) -> None:
    for path in _escapes(project, outside):
        with pytest.raises(ToolError, match="outside the project's working directory"):
            await ReadFileTool().call({"path": path}, ctx(project))
        with pytest.raises(ToolError, match="outside the project's working directory"):
            await WriteFileTool().call({"path": path, "content": "pwned"}, ctx(project))
        with pytest.raises(ToolError, match="outside the project's working directory"):
            await ListFilesTool().call({"path": str(Path(path).parent)}, ctx(project))
        with pytest.raises(ToolError, match="outside the project's working directory"):
            await SearchFilesTool().call({"pattern": "secret", "path": path}, ctx(project))
    assert (outside / "secret.txt").read_text() == "top secret\n"


async def test_an_absolute_path_inside_the_project_and_dotdot_staying_inside_are_fine(
    project: Path,
) -> None:
    answer = await call(ReadFileTool(), project, path=str(project / "src" / "app.py"))
    assert answer["path"] == "src/app.py"
    answer = await call(ReadFileTool(), project, path="src/../README.md")
    assert answer["path"] == "README.md"


async def test_a_symlink_pointing_out_of_the_project_is_refused(
    project: Path, outside: Path
) -> None:
    (project / "leak.txt").symlink_to(outside / "secret.txt")
    (project / "elsewhere").symlink_to(outside)
    (project / "dangling").symlink_to(outside / "new.txt")
    with pytest.raises(ToolError, match="outside the project's working directory"):
        await ReadFileTool().call({"path": "leak.txt"}, ctx(project))
    with pytest.raises(ToolError, match="outside the project's working directory"):
        await ReadFileTool().call({"path": "elsewhere/secret.txt"}, ctx(project))
    with pytest.raises(ToolError, match="outside the project's working directory"):
        await ListFilesTool().call({"path": "elsewhere"}, ctx(project))
    with pytest.raises(ToolError, match="outside the project's working directory"):
        await WriteFileTool().call({"path": "leak.txt", "content": "x"}, ctx(project))
    with pytest.raises(ToolError, match="outside the project's working directory"):
        await WriteFileTool().call({"path": "dangling", "content": "x"}, ctx(project))
    assert (outside / "secret.txt").read_text() == "top secret\n"
    assert not (outside / "new.txt").exists()


async def test_a_write_through_a_symlinked_parent_directory_is_refused(
    project: Path, outside: Path
) -> None:
    (project / "docs").symlink_to(outside, target_is_directory=True)
    for path in ("docs/new.md", "docs/deeper/new.md"):
        with pytest.raises(ToolError, match="outside the project's working directory"):
            await WriteFileTool().call({"path": path, "content": "x"}, ctx(project))
    assert names(outside) == ["secret.txt"]


async def test_a_symlink_within_the_project_is_followed(project: Path) -> None:
    (project / "readme-link").symlink_to(project / "README.md")
    answer = await call(ReadFileTool(), project, path="readme-link")
    assert answer["path"] == "README.md"
    assert answer["text"].startswith("# Demo")


async def test_nul_bytes_and_missing_paths_are_refused(project: Path) -> None:
    with pytest.raises(ToolError, match="NUL byte"):
        await ReadFileTool().call({"path": "README.md\x00.txt"}, ctx(project))
    with pytest.raises(ToolError, match="NUL byte"):
        await WriteFileTool().call({"path": "a\x00/../b", "content": ""}, ctx(project))
    with pytest.raises(ToolError, match="path must be a non-empty string"):
        await ReadFileTool().call({"path": 7}, ctx(project))
    with pytest.raises(ToolError, match=r"nothing\.txt does not exist"):
        await ReadFileTool().call({"path": "nothing.txt"}, ctx(project))


# --- fs.read -------------------------------------------------------------------


async def test_read_answers_the_text_and_a_window_of_lines(project: Path) -> None:
    answer = await call(ReadFileTool(), project, path="src/app.py")
    assert answer == {
        "path": "src/app.py",
        "size": 37,
        "offset": 1,
        "lines": 4,
        "text": "import os\n\ndef main():\n    return 42\n",
        "truncated": False,
        "next_offset": None,
    }
    window = await call(ReadFileTool(), project, path="src/app.py", offset=3, limit=1)
    assert window["text"] == "def main():\n"
    assert window["truncated"]
    assert window["next_offset"] == 4


async def test_read_stops_at_the_byte_cap_and_says_where_to_go_on(project: Path) -> None:
    (project / "big.txt").write_text("".join(f"line {i}\n" for i in range(1, 10_001)))
    tool = ReadFileTool(max_bytes=100)
    answer = await call(tool, project, path="big.txt", max_bytes=10_000)  # ceiling wins
    assert len(answer["text"].encode()) <= 100
    assert answer["text"].startswith("line 1\nline 2\n")
    assert answer["truncated"]
    rest = await call(tool, project, path="big.txt", offset=answer["next_offset"])
    assert rest["text"].startswith(f"line {answer['next_offset']}\n")


async def test_read_of_one_overlong_line_shows_its_start_and_moves_past_it(project: Path) -> None:
    (project / "min.js").write_text("x" * 5000 + "\nnext\n")
    answer = await call(ReadFileTool(max_bytes=64), project, path="min.js")
    assert answer["text"] == "x" * 64
    assert answer["next_offset"] == 2
    after = await call(ReadFileTool(max_bytes=64), project, path="min.js", offset=2)
    assert after["text"] == "next\n"


async def test_read_refuses_binary_files_directories_and_dot_git(project: Path) -> None:
    (project / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(ToolError, match=r"logo\.png is a binary file \(16 bytes\)"):
        await ReadFileTool().call({"path": "logo.png"}, ctx(project))
    with pytest.raises(ToolError, match=r"src is a directory; use fs\.list"):
        await ReadFileTool().call({"path": "src"}, ctx(project))
    with pytest.raises(ToolError, match=r"does not read inside \.git"):
        await ReadFileTool().call({"path": ".git/config"}, ctx(project))


async def test_read_refuses_a_fifo_without_waiting_for_a_writer(project: Path) -> None:
    os.mkfifo(project / "pipe")
    with pytest.raises(ToolError, match="pipe is not a regular file"):
        await ReadFileTool().call({"path": "pipe"}, ctx(project))


# --- fs.write ------------------------------------------------------------------


async def test_write_creates_parents_and_the_file_lands(project: Path) -> None:
    answer = await call(WriteFileTool(), project, path="docs/adr/0001-choice.md", content="# Ok\n")
    assert answer == {"path": "docs/adr/0001-choice.md", "bytes": 5, "created": True}
    assert (project / "docs" / "adr" / "0001-choice.md").read_text() == "# Ok\n"
    again = await call(WriteFileTool(), project, path="docs/adr/0001-choice.md", content="é")
    assert again == {"path": "docs/adr/0001-choice.md", "bytes": 2, "created": False}
    assert (project / "docs" / "adr" / "0001-choice.md").read_text() == "é"


async def test_write_replaces_the_file_by_rename_keeping_its_mode(project: Path) -> None:
    script = project / "run.sh"
    script.write_text("old\n")
    script.chmod(0o750)
    before = os.stat(script).st_ino
    await call(WriteFileTool(), project, path="run.sh", content="new\n")
    after = os.stat(script)
    assert script.read_text() == "new\n"
    assert after.st_ino != before  # a new file renamed over the old one, never rewritten in place
    assert after.st_mode & 0o777 == 0o750
    assert names(project) == [".git", "README.md", "run.sh", "src"]


async def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_replace(src: str, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(module.os, "replace", broken_replace)
    with pytest.raises(ToolError, match=r"README\.md: No space left on device"):
        await WriteFileTool().call({"path": "README.md", "content": "half"}, ctx(project))
    assert (project / "README.md").read_text() == "# Demo\nRun main() to get 42.\n"
    assert names(project) == [".git", "README.md", "src"]


async def test_readers_never_see_a_partial_file_while_it_is_rewritten(project: Path) -> None:
    big_a, big_b = "a" * 400_000, "b" * 400_000
    target = project / "data.txt"
    target.write_text(big_a)
    seen: set[str] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            content = target.read_text()
            seen.add(content[:1] + str(len(content)))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(20):
            content = big_b if i % 2 == 0 else big_a
            await WriteFileTool().call({"path": "data.txt", "content": content}, ctx(project))
    finally:
        stop.set()
        thread.join()
    assert seen
    assert seen <= {"a400000", "b400000"}


async def test_write_refuses_dot_git_directories_big_content_and_bad_text(project: Path) -> None:
    for path in (".git/config", ".git/hooks/pre-commit", "sub/.GIT/x", ".git"):
        with pytest.raises(ToolError, match=r"does not write inside \.git"):
            await WriteFileTool().call({"path": path, "content": "x"}, ctx(project))
    assert "token" in (project / ".git" / "config").read_text()
    with pytest.raises(ToolError, match="src is a directory"):
        await WriteFileTool().call({"path": "src", "content": "x"}, ctx(project))
    with pytest.raises(ToolError, match="not the project's directory"):
        await WriteFileTool().call({"path": ".", "content": "x"}, ctx(project))
    with pytest.raises(ToolError, match=r"content is 11 bytes; fs\.write takes at most 10"):
        await WriteFileTool(max_bytes=10).call({"path": "a", "content": "x" * 11}, ctx(project))
    with pytest.raises(ToolError, match="lone surrogate"):
        await WriteFileTool().call({"path": "a", "content": "\ud800"}, ctx(project))
    with pytest.raises(ToolError, match=r"a parent of README\.md/x is a file"):
        await WriteFileTool().call({"path": "README.md/x", "content": "x"}, ctx(project))
    assert not (project / "a").exists()


# --- fs.list -------------------------------------------------------------------


async def test_list_shows_the_top_and_leaves_out_dot_git(project: Path) -> None:
    answer = await call(ListFilesTool(), project)
    assert answer == {
        "path": ".",
        "entries": [
            {"path": "README.md", "type": "file", "size": 29},
            {"path": "src", "type": "dir"},
        ],
        "truncated": False,
    }


async def test_list_recursive_walks_the_tree_without_entering_linked_directories(
    project: Path, outside: Path
) -> None:
    (project / "src" / "pkg").mkdir()
    (project / "src" / "pkg" / "mod.py").write_text("")
    (project / "src" / "pkg" / ".git").write_text("gitdir: elsewhere\n")  # a worktree's .git
    (project / "out").symlink_to(outside)
    answer = await call(ListFilesTool(), project, recursive=True)
    assert [(e["path"], e["type"]) for e in answer["entries"]] == [
        ("README.md", "file"),
        ("out", "symlink"),
        ("src", "dir"),
        ("src/app.py", "file"),
        ("src/pkg", "dir"),
        ("src/pkg/mod.py", "file"),
    ]
    sub = await call(ListFilesTool(), project, path="src")
    assert [e["path"] for e in sub["entries"]] == ["src/app.py", "src/pkg"]


async def test_list_caps_the_entries_and_refuses_files_and_dot_git(project: Path) -> None:
    for i in range(30):
        (project / f"f{i:02}.txt").write_text("")
    answer = await call(ListFilesTool(max_entries=10), project, max_entries=500)
    assert len(answer["entries"]) == 10
    assert answer["truncated"]
    with pytest.raises(ToolError, match=r"README\.md is a file; use fs\.read"):
        await ListFilesTool().call({"path": "README.md"}, ctx(project))
    with pytest.raises(ToolError, match=r"does not look inside \.git"):
        await ListFilesTool().call({"path": ".git"}, ctx(project))
    with pytest.raises(ToolError, match="recursive must be true or false"):
        await ListFilesTool().call({"recursive": "yes"}, ctx(project))


# --- fs.search -----------------------------------------------------------------


async def test_search_finds_literal_text_as_path_line_text(project: Path) -> None:
    answer = await call(SearchFilesTool(), project, pattern="42")
    assert answer == {
        "matches": ["README.md:2:Run main() to get 42.", "src/app.py:4:    return 42"],
        "files_searched": 2,
        "truncated": False,
    }
    literal = await call(SearchFilesTool(), project, pattern="main()")
    assert literal["matches"] == ["README.md:2:Run main() to get 42.", "src/app.py:3:def main():"]


async def test_search_takes_regexes_globs_a_path_and_ignore_case(project: Path) -> None:
    regex = await call(SearchFilesTool(), project, pattern=r"^def \w+\(", regex=True)
    assert regex["matches"] == ["src/app.py:3:def main():"]
    glob = await call(SearchFilesTool(), project, pattern="42", glob="*.py")
    assert glob["matches"] == ["src/app.py:4:    return 42"]
    deep = await call(SearchFilesTool(), project, pattern="42", glob="src/*")
    assert deep["matches"] == ["src/app.py:4:    return 42"]
    inside = await call(SearchFilesTool(), project, pattern="42", path="README.md")
    assert inside["matches"] == ["README.md:2:Run main() to get 42."]
    folded = await call(SearchFilesTool(), project, pattern="DEMO", ignore_case=True)
    assert folded["matches"] == ["README.md:1:# Demo"]
    with pytest.raises(ToolError, match="not a valid regular expression"):
        await SearchFilesTool().call({"pattern": "(", "regex": True}, ctx(project))


async def test_search_skips_binary_files_dot_git_and_links(project: Path, outside: Path) -> None:
    (project / "blob.bin").write_bytes(b"\x00token\x00")
    (project / "link.txt").symlink_to(outside / "secret.txt")
    (project / "local-link.txt").symlink_to(project / "README.md")
    answer = await call(SearchFilesTool(), project, pattern="token")
    assert answer["matches"] == []
    secret = await call(SearchFilesTool(), project, pattern="secret")
    assert secret["matches"] == []


async def test_search_caps_the_matches(project: Path) -> None:
    (project / "many.txt").write_text("hit\n" * 50)
    answer = await call(SearchFilesTool(max_matches=5), project, pattern="hit", max_matches=99)
    assert answer["matches"] == [f"many.txt:{i}:hit" for i in range(1, 6)]
    assert answer["truncated"]
    assert "more than 5 matches" in answer["note"]
