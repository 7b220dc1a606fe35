"""The peers' own environments: virtual environments beside the suite made
from `requirements-peers.txt`, so the peer frameworks (and their many
dependencies) never become Swarmyard's.

Two of them, because the peers cannot share one: CrewAI pins `openai` below
3 while the OpenAI Agents SDK needs 3. The lines before `# optional:` make
`bench/.venv-peers` (pydantic-ai, LangGraph, OpenAI Agents SDK, matplotlib);
the lines after it make `bench/.venv-peers-optional` (CrewAI: slow to
install, and its failure only drops CrewAI). Each is made once and remade
when the requirements change."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

__all__ = ["PEERS_PYTHON", "PEERS_VENV", "ensure_peers_env", "python_of"]

BENCH = Path(__file__).resolve().parent
PEERS_VENV = BENCH / ".venv-peers"
PEERS_PYTHON = PEERS_VENV / "bin" / "python"
OPTIONAL_VENV = BENCH / ".venv-peers-optional"
REQUIREMENTS = BENCH / "requirements-peers.txt"


def python_of(env: str) -> str:
    """The interpreter of a contestant's environment (`project`, `peers`, `peers-optional`)."""
    if env == "peers":
        return str(PEERS_PYTHON)
    if env == "peers-optional":
        return str(OPTIONAL_VENV / "bin" / "python")
    return sys.executable


def _split_requirements() -> tuple[list[str], list[str]]:
    """Required and optional lines (after the `# optional:` marker)."""
    required: list[str] = []
    optional: list[str] = []
    target = required
    for line in REQUIREMENTS.read_text().splitlines():
        stripped = line.strip()
        if stripped.lower().startswith("# optional"):
            target = optional
        elif stripped and not stripped.startswith("#"):
            target.append(stripped)
    return required, optional


def _ensure(where: Path, requirements: list[str]) -> bool:
    python = where / "bin" / "python"
    stamp = where / ".requirements"
    wanted = "\n".join(requirements)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return True
    print(f"making the peers' environment in {where} …", flush=True)
    if not python.exists():
        venv.EnvBuilder(with_pip=True).create(where)
    cmd = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if subprocess.run([*cmd, *requirements], check=False).returncode != 0:
        return False
    stamp.write_text(wanted)
    return True


def ensure_peers_env() -> set[str]:
    """Make or update the environments; the names of those that can run."""
    required, optional = _split_requirements()
    ready = set()
    if _ensure(PEERS_VENV, required):
        ready.add("peers")
    else:
        print("could not install the peers; they are left out", file=sys.stderr)
    if optional and _ensure(OPTIONAL_VENV, optional):
        ready.add("peers-optional")
    elif optional:
        print(f"optional peers {optional} did not install; left out", file=sys.stderr)
    return ready
