"""What an agent is told at the start of a run."""

from __future__ import annotations

from pydantic_ai.messages import ModelMessage, ModelRequest, SystemPromptPart, UserPromptPart

from ..domain import TASK_TYPES, AgentManifest, Run, Task
from ..ports import ToolSpec

__all__ = ["DELEGATE_SPEC", "consultation_messages", "initial_messages", "task_brief"]

DELEGATE_SPEC = ToolSpec(
    name="delegate",
    description=(
        "Hand part of your task to another role as a subtask and wait for its result. "
        "Returns JSON {task_id, status: done|failed|cancelled|blocked|refused, result, reason}."
    ),
    parameters={
        "type": "object",
        "properties": {
            "role": {
                "type": "string",
                "description": "Role that should do the subtask, "
                "e.g. developer, code-reviewer, tester",
            },
            "title": {"type": "string"},
            "description": {"type": "string", "description": "Everything the other role needs"},
            "type": {"type": "string", "enum": list(TASK_TYPES)},
            "complexity": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
        },
        "required": ["role", "title", "description", "type"],
        "additionalProperties": False,
    },
)

_PLATFORM_NOTE = (
    "You work inside Swarmyard as the {role} of a team of agents. Use the tools you are "
    "given when they help; delegate work that belongs to another role. When your work is "
    "complete, reply with your final deliverable as plain text and call no tool."
)


def task_brief(task: Task) -> str:
    lines = [
        f"Task {task.id}: {task.title}",
        f"Type: {task.type} | Complexity: {task.complexity.value} | "
        f"Priority: {task.priority.value}",
    ]
    if task.parent_id:
        lines.append(f"Parent task: {task.parent_id}")
    if task.depends_on:
        lines.append(f"Depends on: {', '.join(task.depends_on)}")
    lines += ["", task.description or "(no description)"]
    return "\n".join(lines)


def initial_messages(
    run: Run, task: Task, manifest: AgentManifest, *, skills: str = ""
) -> list[ModelMessage]:
    """The first request: the role's prompt, the platform's note, the
    instructions of the workspace's skill packs for the role, and the task."""
    system = f"{manifest.system_prompt.strip()}\n\n{_PLATFORM_NOTE.format(role=run.role)}"
    if skills:
        system = f"{system}\n\n{skills.strip()}"
    return [ModelRequest(parts=[SystemPromptPart(system), UserPromptPart(task_brief(task))])]


def consultation_messages(system: str, user: str) -> list[ModelMessage]:
    """The one request of a consultation (services.consultations): a role
    answering another agent's question."""
    return [ModelRequest(parts=[SystemPromptPart(system), UserPromptPart(user)])]
