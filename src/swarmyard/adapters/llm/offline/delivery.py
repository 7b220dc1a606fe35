"""The offline roles that ship and explain work: documenter, marketer,
presenter, devops and monitor.

Each writes its usual deliverable (a doc page, a launch brief, a slide
outline, a deployment plan, a monitoring plan or incident report) from the
task's title, description and complexity, so demos and tests see output of
the right shape for every role without a real model.
"""

from __future__ import annotations

from .text import bullets, clip, first_sentence, inline, join_lines, requirements, slug, topic
from .turn import Play, Reply, Turn, act, answer

__all__ = ["PLAYS", "devops", "documenter", "marketer", "monitor", "presenter"]


def _points(t: Turn, limit: int = 5) -> list[str]:
    return requirements(t.description, limit) or [f"What {topic(t.title)} is and why it matters."]


# ------------------------------------------------------------------ documenter


def documenter(t: Turn) -> Reply:
    if t.should_read_parent():
        return act(
            f"Reading the parent task {t.parent_id} to document what was actually built.",
            "read_task",
            task_id=t.parent_id,
        )
    subject = topic(t.title)
    parent = t.parent()
    built = first_sentence(parent.result if parent and parent.data.get("result") else "", 200)
    overview = first_sentence(t.description) or f"This page explains {subject}."
    return answer(
        f"# {subject}",
        "",
        "## Overview",
        overview + (f" It documents the delivered work: {built}" if built else ""),
        "",
        "## Getting started",
        f"1. Enable {inline(subject)} in the project settings (it is off until configured).",
        "2. Set the options below; every option has a safe default.",
        "3. Check the result on the board or with `swarmyard tasks list`.",
        "",
        "## Details",
        bullets(_points(t)),
        "",
        "## Troubleshooting",
        "- Nothing happens: check that the feature is enabled for this workspace.",
        "- An error names a setting: fix that setting; the message says which value was refused.",
    )


# ------------------------------------------------------------------ marketer


def marketer(t: Turn) -> Reply:
    subject = topic(t.title)
    gist = first_sentence(t.description, 160) or f"{subject} is now available."
    messages = [clip(point, 120) for point in _points(t, 3)]
    return answer(
        f"Launch brief: {subject}",
        "",
        f"Positioning: for teams that want {inline(subject)} without extra tooling, this is the "
        "simplest way to get it — built in, self-hosted, and on by default once configured.",
        "Audience: engineering leads evaluating the platform, and existing users who asked for it.",
        "",
        "Key messages:",
        bullets(messages),
        "",
        "Channels: changelog entry, blog post, newsletter, one social thread"
        + (", and a short demo video." if t.complexity in ("high", "critical") else "."),
        "Call to action: try it in a workspace today and tell us what is missing.",
        "",
        f"Draft opening: “{gist}”",
    )


# ------------------------------------------------------------------ presenter


def presenter(t: Turn) -> Reply:
    subject = topic(t.title)
    points = _points(t, 3)
    slides = [
        (subject, "Title slide: what we will cover in ten minutes."),
        ("The problem", first_sentence(t.description, 140) or "Why this needed doing."),
        *((f"Point {i}", clip(p, 140)) for i, p in enumerate(points, 1)),
        ("How it works", "One diagram: the flow from request to result."),
        ("What's next", "Open questions and the next milestone; ask for feedback."),
    ]
    lines = [f"Slide {i}: {head}\n   Notes: {note}" for i, (head, note) in enumerate(slides, 1)]
    return answer(
        f"Presentation outline: {subject} ({len(slides)} slides, about ten minutes)",
        "",
        *lines,
        "",
        "Keep one idea per slide; the notes are what to say, not what to show.",
    )


# ------------------------------------------------------------------ devops

_STRATEGY = {
    "low": "rolling update, one replica at a time",
    "medium": "rolling update with a health gate between batches",
    "high": "canary: 10% of traffic for 30 minutes, then the rest",
    "critical": "blue-green with a dark launch and a manual switch-over",
}


def devops(t: Turn) -> Reply:
    subject = topic(t.title)
    name = slug(t.title, default="service")
    strategy = _STRATEGY.get(t.complexity, _STRATEGY["medium"])
    return answer(
        f"Deployment plan: {subject}",
        "",
        f"Strategy: {strategy} ({t.complexity} complexity).",
        "",
        "Pre-flight checks:",
        bullets(
            [
                "CI is green on the release commit; the image is built once, promoted unchanged.",
                "Database migrations are backwards compatible with the running version.",
                "The rollback target (previous image tag) is recorded.",
            ]
        ),
        "",
        "Steps:",
        f"1. Build and push the image `{name}` tagged with the commit.",
        "2. Apply migrations.",
        f"3. Roll out: {strategy}.",
        "4. Watch error rate and latency for 15 minutes.",
        "",
        "Verification: health and readiness endpoints answer, error rate stays at baseline.",
        "Rollback: redeploy the recorded previous tag; migrations are additive, so none is undone.",
    )


# ------------------------------------------------------------------ monitor


def _incident(t: Turn) -> str:
    subject = topic(t.title)
    return join_lines(
        f"Incident report: {subject}",
        "",
        f"Impact: {first_sentence(t.description) or 'under assessment'}",
        f"Severity: {'SEV-1' if t.complexity == 'critical' else 'SEV-2'} ({t.complexity}).",
        "",
        "Timeline (relative to detection):",
        "- T+0: alert fired and was acknowledged.",
        "- T+5 min: impact confirmed on the dashboards; responders joined.",
        "- T+15 min: mitigation applied (rolled back the latest change).",
        "- T+30 min: metrics back at baseline; monitoring continues.",
        "",
        "Root cause (hypothesis): the most recent deployment; confirm from its diff and logs.",
        "Follow-ups:",
        bullets(
            [
                "Add an alert that would have fired earlier.",
                "Add a regression test for the failure.",
                "Hold a blameless review within two working days.",
            ]
        ),
    )


def _monitoring(t: Turn) -> str:
    subject = topic(t.title)
    return join_lines(
        f"Monitoring plan: {subject}",
        "",
        "Service level objectives:",
        bullets(
            [
                "Availability: 99.5% of requests succeed over 30 days.",
                "Latency: 95% of requests answer within 500 ms.",
            ]
        ),
        "",
        "Signals to collect: request rate, error rate, latency percentiles, saturation "
        "(CPU, memory, queue depth).",
        "Alerts: page when the error budget burns 10x faster than allowed for 5 minutes; "
        "open a ticket at 2x for an hour.",
        "Dashboard: one overview row per signal, then one row per dependency.",
        "",
        "Covers: " + "; ".join(clip(p, 80) for p in _points(t, 3)),
    )


def monitor(t: Turn) -> Reply:
    return answer(_incident(t) if t.task_type == "incident" else _monitoring(t))


PLAYS: dict[str, Play] = {
    "documenter": documenter,
    "marketer": marketer,
    "presenter": presenter,
    "devops": devops,
    "monitor": monitor,
}
