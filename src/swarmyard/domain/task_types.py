"""The task types the platform knows.

Its own module because both tasks and manifests need it: a task's type must
be one of these, and a manifest's capabilities may only claim these.
"""

from __future__ import annotations

__all__ = ["TASK_TYPES"]

# An unknown type is refused at creation so a typo cannot leave a card nobody
# can take, and in manifests so a capability cannot claim work that never comes.
TASK_TYPES: tuple[str, ...] = (
    "feature",
    "bugfix",
    "design",
    "implementation",
    "refactor",
    "review",
    "test",
    "docs",
    "deploy",
    "security-audit",
    "marketing",
    "presentation",
    "monitoring",
    "planning",
    "decision",
    "coordination",
    "research",
    "incident",
)
