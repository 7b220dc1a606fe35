"""Which offline role plays a turn, and the rules every role shares.

Shared rules, applied before any role gets the turn: a tool call that came
back with an error ends the run with an explanation (retrying the same call
would only loop), and a run that somehow goes on too long wraps up. After
the role has chosen, calls to tools this run does not offer are dropped.
"""

from __future__ import annotations

import json

from . import delivery, engineering, management, quality
from .consult import consultation
from .text import bullets, clip, first_sentence, requirements, topic
from .turn import Play, Reply, Turn, answer

__all__ = ["MAX_STEPS", "PLAYS", "generic", "next_move"]

PLAYS: dict[str, Play] = {
    **engineering.PLAYS,
    **quality.PLAYS,
    **delivery.PLAYS,
    **management.PLAYS,
}
# Names people use for the built-in roles in custom manifests.
_ALIASES = {
    "reviewer": "code-reviewer",
    "pm": "project-manager",
    "qa": "tester",
    "docs": "documenter",
    "sre": "monitor",
    "ops": "devops",
}
# Every playbook finishes in far fewer steps; this only stops a history that
# keeps growing for a reason the playbooks do not foresee.
MAX_STEPS = 12


def next_move(t: Turn) -> Reply:
    if t.call.consultation:  # answering another agent: one text, no tools
        return consultation(t)
    if t.fresh_errors or t.feedback:
        return _explain_error(t)
    if t.step >= MAX_STEPS:
        return answer(
            f"Stopping after {t.step} steps on “{t.title}”: the offline playbook for "
            f"the {t.role or 'unknown'} role should have finished by now. "
            f"{len(t.outcomes)} tool calls were answered; see them in the run's events."
        )
    play = PLAYS.get(_ALIASES.get(t.role, t.role), generic)
    return _only_offered(t, play(t))


def _only_offered(t: Turn, reply: Reply) -> Reply:
    kept = tuple(call for call in reply.calls if t.offers(call.name))
    if len(kept) == len(reply.calls):
        return reply
    dropped = ", ".join(sorted({c.name for c in reply.calls} - {c.name for c in kept}))
    return Reply(f"{reply.text}\n\n(Not called, as this run does not offer it: {dropped}.)", kept)


def _explain_error(t: Turn) -> Reply:
    if t.fresh_errors:
        failures = [
            f"`{o.name}` with {json.dumps(o.args, sort_keys=True)} answered: {clip(o.error, 300)}"
            for o in t.fresh_errors
        ]
        head = "A tool call failed, so I stopped here instead of calling it again:"
    else:
        failures = [t.feedback]
        head = "The platform could not use my previous response, so I stopped here:"
    done = len(t.outcomes) - len(t.fresh_errors)
    return answer(
        f"Stopped work on “{t.title}”.",
        "",
        head,
        bullets(failures),
        "",
        f"Before that, {done} tool call{'s' if done != 1 else ''} succeeded. Retrying the same "
        "call would fail the same way; fix the cause (a missing task, a refused argument) and "
        "run the task again.",
    )


def generic(t: Turn) -> Reply:
    """A sensible answer for a role without a playbook (e.g. a custom manifest)."""
    who = f"the {t.role} role" if t.role else "an agent without a role"
    points = requirements(t.description, 5) or [f"Deliver {topic(t.title)}."]
    return answer(
        f"Response to “{t.title}” ({t.task_type or 'task'}, {t.complexity} complexity) from {who}.",
        "",
        f"Understanding: {first_sentence(t.description) or topic(t.title)}",
        "",
        "Addressed:",
        bullets(points),
        "",
        "Next steps: review this answer against the task and split anything larger into "
        "follow-up tasks. This role has no offline playbook, so the answer is a generic one.",
    )
