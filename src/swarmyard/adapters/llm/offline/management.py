"""The offline project-manager, decision-maker and orchestrator: the roles
that plan, choose and coordinate.

The orchestrator is the one that exercises delegation hardest: it splits
its task into two or three parts for suitable roles, delegates them one
after another, and summarises what came back, so an offline team shows a
real delegation tree on the board.
"""

from __future__ import annotations

from typing import Any

from .text import bullet_items, bullets, clip, first_sentence, keywords_in, requirements, topic
from .turn import Play, Reply, ToolOutcome, Turn, act, answer

__all__ = ["PLAYS", "decision_maker", "orchestrator", "project_manager", "weigh"]

# role -> (task type, title verb, trigger words); the order is the order work happens in.
_ROUTES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "architect": ("design", "Design", ("design", "architecture", "schema", "plan")),
    "developer": (
        "implementation",
        "Implement",
        ("build", "implement", "code", "feature", "fix", "bug", "refactor"),
    ),
    "security": ("security-audit", "Audit", ("security", "audit", "vulnerability", "auth")),
    "tester": ("test", "Test", ("test", "tests", "qa", "verify")),
    "devops": ("deploy", "Deploy", ("deploy", "release", "ship", "rollout")),
    "documenter": ("docs", "Document", ("docs", "document", "documentation", "guide", "readme")),
    "marketer": ("marketing", "Announce", ("launch", "announce", "marketing", "campaign")),
    "presenter": ("presentation", "Present", ("present", "presentation", "slides", "talk")),
}
_DEFAULT_ROLES = ("architect", "developer", "documenter")
_DAYS = {"low": 1, "medium": 2, "high": 4, "critical": 6}


_TRIGGERS: dict[str, tuple[str, ...]] = {role: spec[2] for role, spec in _ROUTES.items()}


def _owner(item: str) -> str:
    matched = keywords_in(item, _TRIGGERS)
    return matched[0] if matched else "developer"


# ------------------------------------------------------------------ project manager


def _board_line(board: ToolOutcome | None) -> str:
    if board is None:
        return "Board: not checked (the list_tasks tool is not available in this run)."
    tasks: list[Any] = board.data.get("tasks") or []
    counts: dict[str, int] = {}
    for task in tasks:
        status = str(task.get("status", "unknown")) if isinstance(task, dict) else "unknown"
        counts[status] = counts.get(status, 0) + 1
    spread = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return f"Board: {len(tasks)} tasks now" + (f" ({spread})." if spread else ".")


def project_manager(t: Turn) -> Reply:
    if t.offers("list_tasks") and not t.called("list_tasks"):
        return act("Checking the board before planning.", "list_tasks")
    boards = t.outcomes_of("list_tasks")
    days = _DAYS.get(t.complexity, 2)
    work = [("Agree the design", "architect", 1)]
    work += [(clip(r, 90), _owner(r), days) for r in requirements(t.description, 4)]
    work += [("Test the result", "tester", 1), ("Document it", "documenter", 1)]
    rows = [
        f"{i}. {what} — {role}, {n} day{'s' if n > 1 else ''}"
        for i, (what, role, n) in enumerate(work, 1)
    ]
    total = sum(n for _, _, n in work)
    return answer(
        f"Plan: {topic(t.title)}",
        "",
        f"Goal: {first_sentence(t.description) or topic(t.title)}",
        _board_line(boards[-1] if boards else None),
        "",
        "Work breakdown:",
        *rows,
        "",
        "Milestones:",
        bullets(
            [
                "M1 — design agreed (day 1).",
                f"M2 — feature complete (day {1 + days * max(1, len(work) - 3)}).",
                f"M3 — tested and documented (day {total}, if done one after another).",
            ]
        ),
        "",
        f"Risks: {t.complexity} complexity; the estimate assumes one owner per item and no "
        "blocked dependencies. Review progress at every milestone.",
    )


# ------------------------------------------------------------------ decision maker

_CAUTIOUS = ("defer", "wait", "later", "postpone", "keep", "status")
_STEPWISE = ("pilot", "reduced", "phase", "phased", "incremental", "small", "partial", "trial")
# criterion -> weight when the stakes are normal / high
_CRITERIA = {"risk": (2, 4), "cost": (2, 2), "time to value": (3, 2), "reversibility": (1, 2)}


def _options(t: Turn) -> list[str]:
    listed = bullet_items(t.description)
    if len(listed) >= 2:
        return [clip(o, 100) for o in listed[:4]]
    for separator in (" or ", " vs ", " versus "):
        left, sep, right = topic(t.title).partition(separator)
        if sep and left.strip() and right.strip():
            return [left.strip(), right.strip()]
    return ["Proceed as proposed", "Proceed with a reduced scope first (a pilot)", "Defer"]


def _scores(option: str) -> dict[str, int]:
    words = option.lower()
    if any(w in words for w in _CAUTIOUS):
        return {"risk": 5, "cost": 5, "time to value": 1, "reversibility": 5}
    if any(w in words for w in _STEPWISE):
        return {"risk": 4, "cost": 4, "time to value": 3, "reversibility": 4}
    return {"risk": 3, "cost": 3, "time to value": 5, "reversibility": 2}


def _why(best: int, runner_up: int) -> str:
    if best == runner_up:
        return f"Why: the leading options tie at {best}; the first listed wins the tie. "
    return f"Why: it has the highest weighted score ({best} against {runner_up}). "


def weigh(options: list[str], complexity: str) -> tuple[int, list[int], dict[str, int], str]:
    """(index of the best option, every option's score, the criteria's
    weights, why the best one won) — ties go to the first listed."""
    high_stakes = complexity in ("high", "critical")
    weights = {c: pair[1] if high_stakes else pair[0] for c, pair in _CRITERIA.items()}
    totals = [sum(weights[c] * s for c, s in _scores(o).items()) for o in options]
    best = max(range(len(options)), key=lambda i: (totals[i], -i))
    runner_up = max((s for i, s in enumerate(totals) if i != best), default=totals[best])
    why = _why(totals[best], runner_up) + (
        "With high stakes, risk and reversibility weigh most."
        if high_stakes
        else "With normal stakes, time to value weighs most."
    )
    return best, totals, weights, why


def decision_maker(t: Turn) -> Reply:
    options = _options(t)
    best, totals, weights, why = weigh(options, t.complexity)
    letters = "ABCD"
    return answer(
        f"Decision: {topic(t.title)}",
        "",
        "Options:",
        *(f"{letters[i]}. {o}" for i, o in enumerate(options)),
        "",
        "Criteria (weight): " + ", ".join(f"{c} {w}" for c, w in weights.items()),
        "Scores: " + ", ".join(f"{letters[i]} {s}" for i, s in enumerate(totals)),
        "",
        f"Decision: {letters[best]} — {options[best]}.",
        why,
        "Revisit if: the cost estimate doubles, or a blocking risk appears in the first week.",
    )


# ------------------------------------------------------------------ orchestrator


def _split(t: Turn) -> list[str]:
    """The roles to hand parts to, in working order: those the task mentions, then defaults."""
    wanted = 2 if t.complexity == "low" else 3
    picked = keywords_in(f"{t.title} {t.description}", _TRIGGERS)
    for role in _DEFAULT_ROLES:
        if len(picked) >= wanted:
            break
        if role not in picked:
            picked.append(role)
    return [role for role in _ROUTES if role in picked[:wanted]]


def _delegate_part(t: Turn, index: int, role: str, total: int) -> Reply:
    kind, verb, _ = _ROUTES[role]
    subject = topic(t.title)
    goal = first_sentence(t.description) or subject
    done = f" Parts done so far: {index}." if index else ""
    return act(
        f"Coordinating “{subject}” in {total} parts.{done} Handing part {index + 1} to the {role}.",
        "delegate",
        role=role,
        title=f"{verb}: {subject}",
        description=f"Part {index + 1} of {total} of “{subject}”, for the {role}.\n\n"
        f"Overall goal: {goal}",
        type=kind,
        complexity=t.complexity,
    )


def orchestrator(t: Turn) -> Reply:
    plan = _split(t)
    handed = t.delegations()
    if t.offers("delegate") and len(handed) < len(plan):
        index = len(handed)
        return _delegate_part(t, index, plan[index], len(plan))
    lines: list[str] = []
    for i, role in enumerate(plan, 1):
        verb = _ROUTES[role][1]
        outcome = handed[i - 1] if i <= len(handed) else None
        if outcome is None:
            lines.append(f"{i}. {verb} — {role}: not delegated (no delegate tool in this run).")
        elif outcome.delegated_ok:
            first = clip(outcome.result.splitlines()[0] if outcome.result else "", 140)
            lines.append(f"{i}. {verb} — {role}, task {outcome.task_id}: done. {first}".rstrip())
        else:
            lines.append(f"{i}. {verb} — {role}: {outcome.delegation_note(verb)}")
    completed = sum(1 for o in handed if o.delegated_ok)
    return answer(
        f"Coordination summary: {topic(t.title)}",
        "",
        "Parts:",
        *lines,
        "",
        f"Outcome: {completed} of {len(plan)} parts completed."
        + ("" if completed == len(plan) else " The rest needs a person or an installed agent."),
    )


PLAYS: dict[str, Play] = {
    "project-manager": project_manager,
    "decision-maker": decision_maker,
    "orchestrator": orchestrator,
}
