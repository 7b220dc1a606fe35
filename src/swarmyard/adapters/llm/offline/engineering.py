"""The offline architect and developer: the two roles that hand work on.

The architect records a decision and delegates the implementation; the
developer reads its parent task, writes a change, gets it reviewed (revising
once if the reviewer asks), has it tested, and reports. Both are written as
"look at what has happened so far, return the next move", so a run resumed
from any checkpoint continues exactly where it stopped.
"""

from __future__ import annotations

from .text import (
    COMPLEXITY_NOTES,
    bullet_items,
    bullets,
    clip,
    excerpt,
    find_markers,
    first_sentence,
    inline,
    join_lines,
    requirements,
    scrub_markers,
    slug,
    topic,
)
from .turn import Play, Reply, ToolOutcome, Turn, act, answer

__all__ = ["PLAYS", "architect", "developer"]

_DECISIONS: dict[str, str] = {
    "low": (
        "Make “{topic}” a change inside the module that already owns this behaviour: one "
        "small change with unit tests. No new dependency, no schema change."
    ),
    "medium": (
        "Deliver “{topic}” as a new module `{name}` behind a narrow interface (one entry "
        "point, typed inputs and outputs), wired in where the application is composed. "
        "Cover it with unit tests and one integration test."
    ),
    "high": (
        "Deliver “{topic}” as a separate component `{name}` behind a port, with its own "
        "persistence "
        "boundary. Roll it out behind a feature flag in two stages (internal users, then "
        "everyone) and keep the old path until the new one is proven."
    ),
    "critical": (
        "Deliver “{topic}” as a separate component `{name}` behind a port and a feature flag. "
        "Ship it dark first and measure it against the old path; every stage needs a "
        "security review and a rehearsed rollback before traffic moves."
    ),
}


def _parent_line(t: Turn) -> str:
    parent = t.parent()
    if parent is None:
        return ""
    data = parent.data
    title = clip(str(data.get("title") or ""), 100) or t.parent_id
    status = str(data.get("status") or "unknown")
    gist = first_sentence(str(data.get("description") or ""), 160)
    return f"Parent task {t.parent_id} “{title}” ({status})" + (f": {gist}" if gist else ".")


def _requirements(t: Turn) -> list[str]:
    return requirements(t.description) or [f"Deliver {topic(t.title)} as the title says."]


# ------------------------------------------------------------------ architect


def _decision(t: Turn) -> str:
    template = _DECISIONS.get(t.complexity, _DECISIONS["medium"])
    subject = inline(topic(t.title))
    return template.format(topic=subject, name=slug(t.title))


def _adr(t: Turn) -> str:
    note = COMPLEXITY_NOTES.get(t.complexity, f"{t.complexity} complexity")
    context = first_sentence(t.description).rstrip(".") or "The task gives no further description"
    parent = _parent_line(t)
    flag = t.complexity in ("high", "critical")
    consequences = [
        "The change is isolated: it can be built, reviewed, tested and reverted on its own.",
        "Each requirement above maps to at least one test, so review has a checklist.",
        (
            "A feature flag and two code paths add temporary complexity until the old path goes."
            if flag
            else "One more module to maintain; its interface is kept small to limit that cost."
        ),
    ]
    return join_lines(
        f"# ADR: {topic(t.title)}",
        "",
        "Status: proposed",
        "",
        "## Context",
        f"{context}. The task is rated {note}.",
        *([parent] if parent else []),
        "",
        "Requirements:",
        bullets(_requirements(t)),
        "",
        "## Decision",
        _decision(t),
        "",
        "## Consequences",
        bullets(consequences),
    )


def _implementation_brief(t: Turn) -> str:
    return join_lines(
        f"Decision (from the architecture record): {_decision(t)}",
        "",
        "Requirements:",
        bullets(_requirements(t)),
        "",
        "Done when every requirement has a passing test and the change has been reviewed.",
    )


def _feature(t: Turn) -> Reply:
    adr = _adr(t)
    handed = t.delegations("developer")
    if not handed:
        if not t.offers("delegate"):
            return answer(
                f"{adr}\n\n## Implementation\nNot delegated: the delegate tool is not "
                "available in this run, so the decision stands as a proposal."
            )
        return act(
            f"{adr}\n\nDelegating the implementation to a developer.",
            "delegate",
            role="developer",
            title=f"Implement: {topic(t.title)}",
            description=_implementation_brief(t),
            type="implementation",
            complexity=t.complexity,
        )
    outcome = handed[-1]
    if outcome.delegated_ok:
        summary = excerpt(outcome.result, 30, 2000) or "The developer reported no details."
        section = f"Delegated to developer as task {outcome.task_id}: done.\n\n{summary}"
    else:
        section = (
            outcome.delegation_note("Implementation")
            + " This record stays a proposal until a developer picks it up."
        )
    return answer(f"{adr}\n\n## Implementation\n{section}")


def _research(t: Turn) -> str:
    subject = topic(t.title)
    recommend = "adopt" if t.complexity in ("low", "medium") else "build"
    return join_lines(
        f"# Research: {subject}",
        "",
        "## Question",
        first_sentence(t.description) or f"How should we approach {subject}?",
        *([_parent_line(t)] if t.parent() else []),
        "",
        "## Options considered",
        "1. Adopt an established library or service: fastest, but we inherit its limits.",
        "2. Build it ourselves behind a port: full control, more code to own.",
        "3. Defer: no cost now, but the need behind the task stays open.",
        "",
        "## Findings",
        bullets(f"Requirement “{r}” is met by options 1 and 2." for r in _requirements(t)[:4]),
        "",
        "## Recommendation",
        f"{recommend.capitalize()} — for {t.complexity} complexity "
        + (
            "the quickest safe path wins."
            if recommend == "adopt"
            else "control over failure modes matters more than speed."
        ),
    )


def architect(t: Turn) -> Reply:
    if t.task_type == "feature":
        return _feature(t)
    if t.should_read_parent():
        return act(
            f"Reading the parent task {t.parent_id} before writing the "
            f"{'report' if t.task_type == 'research' else 'decision record'}.",
            "read_task",
            task_id=t.parent_id,
        )
    if t.task_type == "research":
        return answer(_research(t))
    return answer(
        _adr(t) + "\n\nImplementation is a separate task: this record is the design only."
    )


# ------------------------------------------------------------------ developer

_APPROACH: dict[str, str] = {
    "bugfix": "Reproduced the fault with a failing test first, fixed its cause rather than "
    "the symptom, and kept the reproduction as a regression test.",
    "refactor": "Restructured the code without changing behaviour: the existing tests pass "
    "unchanged before and after.",
}


def _change(t: Turn) -> str:
    name = slug(t.title)
    reqs = _requirements(t)
    kind = t.task_type or "implementation"
    approach = _APPROACH.get(
        kind,
        "Implemented the requirements in small steps, each with "
        "its test, following the existing conventions.",
    )
    if kind == "bugfix":
        files = [f"src/{name}.py — the fix", f"tests/test_{name}_regression.py — new"]
    else:
        files = [
            f"src/{name}/core.py — the logic",
            f"src/{name}/__init__.py — public API",
            f"tests/test_{name}.py — new",
        ]
    tests = [f"test_{slug(r, 4, default=str(i))}" for i, r in enumerate(reqs[:4], 1)]
    tests.append(f"test_{name}_rejects_invalid_input")
    parent = _parent_line(t)
    return join_lines(
        f"## Change: {topic(t.title)}",
        f"Type: {kind}, {t.complexity} complexity.",
        *([f"Context: {parent}"] if parent else []),
        f"Approach: {approach}",
        "Files touched:",
        bullets(files),
        "Tests added:",
        bullets(tests),
        "Requirements covered:",
        bullets(reqs),
    )


def _changes_requested(review: ToolOutcome) -> bool:
    return review.delegated_ok and "CHANGES REQUESTED" in review.result.upper()


def _revise(change: str, review: ToolOutcome) -> str:
    own = [scrub_markers(line).lstrip("-*+• ") for _, line in find_markers(change)]
    if own:
        points = [f"finished: {line}" for line in dict.fromkeys(own)]
    else:  # the reviewer objected to something else: answer its points one by one
        reasons = bullet_items(review.result)[:5] or ["the reviewer's general remarks"]
        points = [f"addressed: {clip(scrub_markers(reason), 140)}" for reason in reasons]
    block = "Revision 2 (after review) addresses every point the reviewer raised:\n"
    # Scrubbed so the revision no longer carries the markers the reviewer objected to.
    return scrub_markers(change) + "\n" + block + bullets(points)


def _verdict(review: ToolOutcome) -> str:
    if not review.delegated_ok:
        return review.delegation_note("Code review") + " Continued without it."
    return clip(review.result.splitlines()[0] if review.result else "", 200) or "no verdict given"


def _test_summary(test: ToolOutcome) -> str:
    if not test.delegated_ok:
        return test.delegation_note("Testing") + " Continued without it."
    lines = [line for line in test.result.splitlines() if line.startswith("Result:")]
    return lines[-1] if lines else clip(test.result, 200) or "the tester reported no result"


def _report(change: str, reviews: list[ToolOutcome], tests: list[ToolOutcome]) -> str:
    review_lines = [
        f"Review {i} (task {r.task_id or '-'}): {_verdict(r)}" for i, r in enumerate(reviews, 1)
    ]
    if len(reviews) >= 2 and _changes_requested(reviews[-1]):
        review_lines.append("The second review still asks for changes; a person should decide.")
    test_lines = [_test_summary(test) for test in tests[-1:]]
    return join_lines(
        change,
        "",
        "## Review",
        *(review_lines or ["Not requested: the delegate tool is not available in this run."]),
        "",
        "## Tests",
        *(test_lines or ["Not requested: the delegate tool is not available in this run."]),
    )


def developer(t: Turn) -> Reply:
    if t.should_read_parent():
        return act(
            f"Reading the parent task {t.parent_id} first, so the change fits what was asked.",
            "read_task",
            task_id=t.parent_id,
        )
    change = _change(t)
    if not t.offers("delegate"):
        return answer(_report(change, [], []))
    subject = topic(t.title)
    reviews = t.delegations("code-reviewer")
    if not reviews:
        return act(
            f"{change}\n\nRequesting a code review.",
            "delegate",
            role="code-reviewer",
            title=f"Review: {subject}",
            description=change,
            type="review",
            complexity=t.complexity,
        )
    if _changes_requested(reviews[0]):
        change = _revise(change, reviews[0])
        if len(reviews) < 2:
            return act(
                f"{change}\n\nRevised after the review; requesting a second review.",
                "delegate",
                role="code-reviewer",
                title=f"Re-review: {subject}",
                description=change,
                type="review",
                complexity=t.complexity,
            )
    tests = t.delegations("tester")
    if not tests:
        return act(
            f"Review finished ({_verdict(reviews[-1])}). Asking the tester to verify the change.",
            "delegate",
            role="tester",
            title=f"Test: {subject}",
            description=change,
            type="test",
            complexity=t.complexity,
        )
    return answer(_report(change, reviews, tests))


PLAYS: dict[str, Play] = {"architect": architect, "developer": developer}
