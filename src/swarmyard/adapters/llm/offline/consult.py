"""The offline roles answering a consultation: another agent's question
(`agent.request_help`) or a decision among options (`agent.request_decision`).

The call says it is one (`ModelCall.consultation`); the question and the
options are read back from the sections of the consultation prompt
(`domain.consultation.consult_prompt`). The answer is one text, no tool
calls: the answering role has no tools in a consultation. A decision
starts with the ``Choice: N`` line the prompt asks for, chosen with the
same weighing the offline decision-maker uses for its own tasks.
"""

from __future__ import annotations

import re

from ....domain.consultation import (
    HEADING_ANSWER,
    HEADING_CONTEXT,
    HEADING_OPTIONS,
    HEADING_QUESTION,
)
from .management import weigh
from .text import clip, first_sentence, inline, section_items, topic
from .turn import Reply, Turn, answer

__all__ = ["consultation"]

_HEADINGS = (HEADING_QUESTION, HEADING_OPTIONS, HEADING_CONTEXT, HEADING_ANSWER)
_ASKER = re.compile(r"^The (?P<role>[a-z][a-z0-9-]*) role asks you")

# What each role brings to a question, in a sentence or two.
_ADVICE: dict[str, str] = {
    "architect": (
        "Keep it behind a narrow interface in the module that owns the behaviour; do not "
        "let callers depend on its internals. Prefer the reversible option: no new "
        "dependency or schema change unless the requirement cannot be met without one, "
        "and record the choice so the next change follows it."
    ),
    "developer": (
        "Make the smallest change that meets the requirement, in the module that already "
        "owns the behaviour, following its conventions, with a unit test for each case "
        "the question raises."
    ),
    "code-reviewer": (
        "Keep the change small enough to review in one sitting: one purpose, tests that "
        "show the behaviour, no unrelated edits, and names that say what the code does."
    ),
    "tester": (
        "Pin the expected behaviour down with one test per requirement, then the edges: "
        "empty and oversized input, the failure path, and a repeat of the same request."
    ),
    "security": (
        "Treat every input that crosses a trust boundary as hostile: validate it there, "
        "grant the least privilege that works, keep secrets out of logs and errors, and "
        "fail closed."
    ),
    "devops": (
        "Ship it behind a flag or as a rolling change with health checks, keep the "
        "previous version one command away, and watch the error rate and latency after "
        "the rollout."
    ),
    "documenter": (
        "Write for the reader who has the task in front of them: what it does, one "
        "worked example, the limits, and what to do when it fails."
    ),
    "project-manager": (
        "Split it into tasks small enough to finish in a day, order them by dependency, "
        "and name the owner role and the acceptance criterion of each."
    ),
    "monitor": (
        "Alert on symptoms users feel (errors, latency, saturation), not on causes, and "
        "give every alert a runbook step."
    ),
}


def _section(brief: str, heading: str) -> str:
    """The lines under `heading` up to the next heading of the prompt."""
    lines: list[str] = []
    inside = False
    for line in brief.splitlines():
        if line.strip() in _HEADINGS:
            if inside:
                break
            inside = line.strip() == heading
            continue
        if inside:
            lines.append(line)
    return "\n".join(lines).strip()


def _asker(t: Turn) -> str:
    match = _ASKER.match(t.brief)
    return match.group("role") if match else "other"


def _help(t: Turn) -> Reply:
    question = _section(t.brief, HEADING_QUESTION) or t.brief
    advice = _ADVICE.get(
        t.role,
        "Start from the requirement the task states, choose the simplest approach that "
        "meets it, and say plainly what you assumed.",
    )
    return answer(
        f"Answer from the {t.role or 'consulted'} role to the {_asker(t)} role, on "
        f"“{topic(t.title)}”.",
        "",
        f"Question: {clip(first_sentence(question, 300) or question, 300)}",
        "",
        advice,
        "",
        f"For {inline(topic(t.title))}, at {t.complexity} complexity, that is where I would "
        "start; come back with the specifics if the answer does not fit them.",
    )


def _decision(t: Turn) -> Reply:
    options = section_items(t.brief, HEADING_OPTIONS)
    question = _section(t.brief, HEADING_QUESTION)
    if len(options) < 2:
        return answer(
            "No decision: the request lists fewer than two options to choose between.",
            f"Question: {clip(question, 300)}",
        )
    best, totals, weights, why = weigh(options, t.complexity)
    return answer(
        f"Choice: {best + 1}",
        "",
        f"I choose option {best + 1}, “{options[best]}”, for the {_asker(t)} role's "
        f"question: {clip(question, 200)}",
        "Criteria (weight): " + ", ".join(f"{c} {w}" for c, w in weights.items()),
        "Scores: " + ", ".join(f"{i + 1}: {s}" for i, s in enumerate(totals)),
        why,
        "Revisit if: the cost estimate doubles, or a blocking risk appears in the first week.",
    )


def consultation(t: Turn) -> Reply:
    """The answer to a consultation call (`t.call.consultation` is set)."""
    if t.call.consultation == "decision":
        return _decision(t)
    return _help(t)
