"""Text helpers the offline roles share: pulling requirements out of a
brief, naming things after a title, clipping and bullet lists.

Everything here is a pure function of its input (no clock, no randomness,
no hashing with a per-process seed), which is what keeps the offline model
byte-for-byte deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "COMPLEXITY_NOTES",
    "LABEL",
    "MARKER_PATTERN",
    "bullet_items",
    "bullets",
    "clip",
    "excerpt",
    "find_markers",
    "first_sentence",
    "inline",
    "join_lines",
    "keywords_in",
    "requirements",
    "scrub_markers",
    "section_items",
    "slug",
    "strip_label",
    "topic",
]

# Every text the offline model writes starts with this, so its output is never
# mistaken for a real model's: on the board, in results, in checkpoints.
LABEL = "[offline model]"

# Words that say nothing about what a task is about; dropped when naming files and tests.
_STOPWORDS = frozenset((
    "a", "an", "and", "the", "of", "to", "for", "in", "on", "with", "by", "from", "into",
    "as", "at", "or", "is", "are", "be", "it", "this", "that", "implement", "implementation",
    "add", "adds", "build", "create", "make", "new", "review", "test", "tests", "docs",
    "design", "feature", "fix", "bugfix", "refactor", "task", "please", "should", "must",
    "will", "can", "we", "our",
))  # fmt: skip
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+(.*\S)\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z0-9]+")

# Unfinished-work markers a reviewer refuses, as whole words with their usual
# endings (TODOs, hacky, hacked), so that words which merely contain one
# (hackathon, shack) do not block a review.
MARKER_PATTERN = re.compile(r"\b(todos?|fixmes?|hack(?:s|y|ed|ing|ish)?)\b", re.IGNORECASE)
_NOTE_MARKER = re.compile(r"\b(?:todos?|fixmes?)\b\s*[:\-\u2013\u2014]?\s*", re.IGNORECASE)
_HACK = re.compile(r"\bhack(?:s|y|ed|ing|ish)?\b", re.IGNORECASE)

COMPLEXITY_NOTES: dict[str, str] = {
    "low": "low complexity: a small, local change with little risk",
    "medium": "medium complexity: a contained change touching a few modules",
    "high": "high complexity: several components change and need a staged rollout",
    "critical": "critical complexity: wide impact, so every step needs review, "
    "a rollback plan and a feature flag",
}


def clip(text: str, limit: int) -> str:
    """`text` on one line, cut at a word boundary to at most `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def join_lines(*lines: str) -> str:
    return "\n".join(lines)


def excerpt(text: str, max_lines: int = 20, max_chars: int = 1200) -> str:
    """The start of a multi-line text, line breaks kept, marked when cut."""
    kept: list[str] = []
    size = 0
    for line in text.strip().splitlines():
        if len(kept) == max_lines or size + len(line) > max_chars:
            kept.append("[…]")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def bullets(items: Iterable[str], marker: str = "-") -> str:
    return "\n".join(f"{marker} {item}" for item in items)


def first_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of the prose in `text`: bullet lines and headings
    are lists, not prose, and are skipped."""
    prose = [
        line
        for line in text.splitlines()
        if line.strip() and not _BULLET.match(line) and not line.startswith("#")
    ]
    flat = " ".join(" ".join(prose).split())
    if not flat:
        return ""
    return clip(_SENTENCE_END.split(flat, 1)[0], limit)


def inline(phrase: str) -> str:
    """`phrase` fit for the middle of a sentence: a capital first letter is
    lowered unless the first word looks like a name or acronym (PostgreSQL, API)."""
    first = phrase.split(" ", 1)[0]
    if len(first) > 1 and first[0].isupper() and not any(c.isupper() for c in first[1:]):
        return phrase[0].lower() + phrase[1:]
    return phrase


def bullet_items(text: str) -> list[str]:
    """The text of every bullet or numbered line of `text`."""
    return [m.group(1) for line in text.splitlines() if (m := _BULLET.match(line))]


def requirements(text: str, limit: int = 6) -> list[str]:
    """The requirements a brief states: its bullet points if it has any,
    else its sentences. Headings and blank lines are skipped."""
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    items = bullet_items("\n".join(lines))
    if not items:
        flat = " ".join(" ".join(lines).split())
        items = [s for s in _SENTENCE_END.split(flat) if len(s.strip(" .")) > 3]
    seen: list[str] = []
    for item in items:
        clean = clip(item.strip().rstrip("."), 160)
        if clean and clean not in seen:
            seen.append(clean)
    return seen[:limit]


def section_items(text: str, heading: str) -> list[str]:
    """The bullet items directly under a line that reads ``heading`` (e.g.
    "Tests added:"), up to the next non-bullet line."""
    items: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.strip().lower().rstrip(":") == heading.lower().rstrip(":"):
            inside = True
            continue
        if inside:
            match = _BULLET.match(line)
            if not match:
                if items or line.strip():
                    break
                continue
            items.append(match.group(1))
    return items


def topic(title: str) -> str:
    """The title without a leading verb prefix such as "Implement:"."""
    head, sep, rest = title.partition(":")
    if sep and rest.strip() and len(head.split()) <= 2:
        return rest.strip()
    return title.strip()


def slug(text: str, words: int = 3, default: str = "change") -> str:
    """A snake_case name made of the first meaningful words of `text`."""
    found = [w for w in _WORD.findall(topic(text).lower()) if w not in _STOPWORDS]
    return "_".join(found[:words]) or default


def keywords_in(text: str, table: dict[str, tuple[str, ...]]) -> list[str]:
    """The keys of `table` one of whose words occurs in `text`, in table order."""
    words = set(_WORD.findall(text.lower()))
    return [key for key, triggers in table.items() if words.intersection(triggers)]


def find_markers(text: str) -> list[tuple[str, str]]:
    """(marker, the line it is on) for every unfinished-work marker in `text`."""
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        for match in MARKER_PATTERN.finditer(line):
            found.append((match.group(1), clip(line.strip(), 120)))
    return found


def scrub_markers(text: str) -> str:
    """`text` as a revision that finished the marked work would read: TODO and
    FIXME notes dropped (the work they announced is done), hacks named as
    the workarounds they were."""
    return _HACK.sub("workaround", _NOTE_MARKER.sub("", text))


def strip_label(text: str) -> str:
    """A result without the offline model's label, so its first word can be read."""
    body = text.lstrip()
    if body.startswith(LABEL):
        body = body[len(LABEL) :].lstrip()
    return body
