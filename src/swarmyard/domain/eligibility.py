"""Which agents may take which tasks.

A task that names a role goes to agents of that role; one that names
capabilities goes to agents having all of them; otherwise the task's type
must be covered by one of the agent's capabilities. In every case the
covering capability must be fit for the task's complexity.
"""

from __future__ import annotations

from .agent import Agent
from .manifest import AgentManifest, Capability
from .task import Task

__all__ = ["ineligibility"]


def _fit(cap: Capability | None, task: Task) -> bool:
    return cap is None or task.complexity.rank <= cap.complexity.rank


def ineligibility(agent: Agent, manifest: AgentManifest, task: Task) -> str | None:
    """None if `agent` may take `task`, else the reason it may not."""
    if task.required_role is not None and agent.role != task.required_role:
        return f"role {agent.role} is not {task.required_role}"
    caps = {c.id: c for c in manifest.capabilities}
    if task.required_capabilities:
        missing = [c for c in task.required_capabilities if c not in caps]
        if missing:
            return f"lacks capabilities {', '.join(missing)}"
        unfit = [c for c in task.required_capabilities if not _fit(caps[c], task)]
        if unfit:
            return f"capabilities {', '.join(unfit)} stop below {task.complexity.value} complexity"
        return None
    cap = manifest.capability_for(task.type)
    if cap is None:
        if task.required_role is not None:
            return None  # the role was asked for by name: trust the asker
        return f"no capability covers {task.type} tasks"
    if not _fit(cap, task):
        return f"{cap.id} stops at {cap.complexity.value} complexity"
    return None
