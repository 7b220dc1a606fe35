"""Bus subject names (blueprint §8), the same on NATS and the in-process bus."""

from __future__ import annotations

__all__ = [
    "DEADLETTER_DELIVERIES",
    "DEADLETTER_DURABLE",
    "DEADLETTER_MSG_ID",
    "DEAD_LETTER_PREFIX",
    "agent_decision",
    "agent_help",
    "auth_revoked",
    "board",
    "heartbeat",
    "run_control",
    "run_events",
    "tasks_ready",
    "workspace_all",
    "workspace_of",
]

PREFIX = "swarmyard"
DEAD_LETTER_PREFIX = f"{PREFIX}.deadletter"
# Headers of a dead letter: the original msg_id, how often it was delivered, and by which durable.
DEADLETTER_MSG_ID = "Swarmyard-Msg-Id"
DEADLETTER_DELIVERIES = "Swarmyard-Deliveries"
DEADLETTER_DURABLE = "Swarmyard-Durable"


def tasks_ready(workspace_id: str, role: str) -> str:
    """Work queue subject: runs waiting for a worker of `role`."""
    return f"{PREFIX}.{workspace_id}.tasks.ready.{role}"


def run_events(workspace_id: str, run_id: str) -> str:
    return f"{PREFIX}.{workspace_id}.runs.events.{run_id}"


def run_control(workspace_id: str, run_id: str) -> str:
    """Stop requests and other commands addressed to the worker holding a run."""
    return f"{PREFIX}.{workspace_id}.runs.control.{run_id}"


def board(workspace_id: str) -> str:
    return f"{PREFIX}.{workspace_id}.board"


def workspace_all(workspace_id: str) -> str:
    """Everything published in a workspace, in publish order (streams use it
    so board changes, run events and revocations arrive interleaved correctly)."""
    return f"{PREFIX}.{workspace_id}.>"


def auth_revoked(workspace_id: str) -> str:
    """A key was revoked: streams opened with it close (the payload is its id)."""
    return f"{PREFIX}.{workspace_id}.auth.revoked"


def heartbeat(agent_id: str) -> str:
    return f"{PREFIX}.agent.heartbeat.{agent_id}"


def agent_help(workspace_id: str, role: str | None = None) -> str:
    """Questions for an agent of `role` (request/reply; see domain.consultation).
    Workers serve ``agent_help("*", role)`` for each role they serve, so a
    question for a role nobody serves gets no answer."""
    base = f"{PREFIX}.{workspace_id}.agent.help"
    return f"{base}.{role}" if role else base


def agent_decision(workspace_id: str) -> str:
    """Decisions asked of the decision-maker role (request/reply)."""
    return f"{PREFIX}.{workspace_id}.agent.decision"


def workspace_of(subject: str) -> str | None:
    parts = subject.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == PREFIX else None
