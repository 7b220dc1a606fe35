"""Which sandbox a host gets, and what a host without one does."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarmyard.adapters.sandbox import (
    BubblewrapSandbox,
    UnavailableSandbox,
    UnsandboxedRunner,
    bubblewrap_problem,
    choose_sandbox,
    detect,
)
from swarmyard.ports.sandbox import SandboxCommand, SandboxError, SandboxUnavailable


def test_a_missing_binary_is_named() -> None:
    problem = bubblewrap_problem(BubblewrapSandbox(bwrap="/nonexistent/bwrap"))
    assert problem == "bwrap is not installed"


def test_auto_picks_bubblewrap_when_it_works(bubblewrap: BubblewrapSandbox) -> None:
    chosen = choose_sandbox("auto")
    assert isinstance(chosen, BubblewrapSandbox)
    assert chosen.isolated


def test_without_a_working_bubblewrap_auto_has_no_sandbox_and_forcing_it_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(detect, "bubblewrap_problem", lambda: "bwrap is not installed")
    chosen = choose_sandbox("auto")
    assert isinstance(chosen, UnavailableSandbox)
    assert not chosen.isolated
    with pytest.raises(SandboxError, match="SWARMYARD_SANDBOX=bubblewrap, but bwrap is not"):
        choose_sandbox("bubblewrap")


def test_the_other_modes_are_what_they_say() -> None:
    unsandboxed = choose_sandbox("unsandboxed")
    assert isinstance(unsandboxed, UnsandboxedRunner)
    assert (unsandboxed.name, unsandboxed.isolated) == ("unsandboxed", False)
    assert isinstance(choose_sandbox("none"), UnavailableSandbox)


async def test_no_sandbox_refuses_unless_the_policy_allows_unsandboxed(scratch: Path) -> None:
    none = UnavailableSandbox("bwrap is not installed")
    with pytest.raises(SandboxUnavailable, match=r"bwrap is not installed.*allow_unsandboxed"):
        await none.run(SandboxCommand(argv=("echo", "hi"), scratch=scratch))
    allowed = await none.run(
        SandboxCommand(argv=("echo", "hi"), scratch=scratch, allow_unsandboxed=True)
    )
    assert allowed.stdout == "hi\n"
    assert allowed.sandbox == "unsandboxed"


def test_the_command_line_keeps_the_environment_out_of_it(scratch: Path) -> None:
    argv = BubblewrapSandbox(run_as=None).argv(
        SandboxCommand(argv=("true",), scratch=scratch, env={"TOKEN": "s3cret"})
    )
    assert "s3cret" not in " ".join(argv)
    assert {"--unshare-all", "--die-with-parent", "--ro-bind"} <= set(argv)
    assert argv[argv.index("--bind") + 1 : argv.index("--bind") + 3] == [str(scratch)] * 2
