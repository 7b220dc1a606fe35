"""Long-term memory: what agents (and people) keep for later runs.

A `MemoryItem` belongs to one agent, or to the whole workspace when its
`agent_id` is None: that is shared context, which every agent of the
workspace reads. Items may expire (`expires_at`); an expired item is never
answered again, whatever the store still holds.

Search is by words: a query is cut into terms the same way for every
store adapter (SQLite FTS5, PostgreSQL full text, the in-memory store), so
they agree on what matches — an item matches when it holds any of the
terms — and differ only in how finely they rank.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import Problem, ValidationFailed

__all__ = [
    "MAX_MEMORY_TAGS",
    "MAX_MEMORY_TAG_CHARS",
    "MAX_MEMORY_TEXT",
    "MAX_MEMORY_TTL_DAYS",
    "MemoryItem",
    "MemoryKind",
    "content_words",
    "memory_problems",
    "new_memory",
    "overlap_score",
    "search_terms",
    "word_tokens",
]

MAX_MEMORY_TEXT = 4000
MAX_MEMORY_TAGS = 10
MAX_MEMORY_TAG_CHARS = 40
MAX_MEMORY_TTL_DAYS = 3650
# A query's terms beyond this add little and would make every search slow.
_MAX_TERMS = 16


class MemoryKind(StrEnum):
    FACT = "fact"
    DECISION = "decision"
    KNOWLEDGE = "knowledge"
    NOTE = "note"


@dataclass(slots=True)
class MemoryItem:
    id: str
    workspace_id: str
    kind: MemoryKind
    text: str
    created_at: datetime
    # None: shared with the whole workspace (every agent finds it).
    agent_id: str | None = None
    tags: list[str] = field(default_factory=list)
    # Provenance: the run and task that wrote it, and who did ("role:developer",
    # "user:…", "api_key:…").
    run_id: str | None = None
    task_id: str | None = None
    source: str = ""
    expires_at: datetime | None = None

    def live_at(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


def memory_problems(
    text: str, kind: str, tags: Sequence[object], ttl_days: object | None
) -> list[Problem]:
    """Everything wrong with a memory to be saved, each naming its field."""
    problems = []
    if not text.strip():
        problems.append(Problem("text", "must not be empty"))
    elif len(text) > MAX_MEMORY_TEXT:
        problems.append(Problem("text", f"at most {MAX_MEMORY_TEXT} characters"))
    if kind not in MemoryKind.__members__.values():
        known = ", ".join(k.value for k in MemoryKind)
        problems.append(Problem("kind", f"{kind!r} is not one of: {known}"))
    if len(tags) > MAX_MEMORY_TAGS:
        problems.append(Problem("tags", f"at most {MAX_MEMORY_TAGS} tags"))
    for i, tag in enumerate(tags):
        if not isinstance(tag, str) or not tag.strip():
            problems.append(Problem(f"tags.{i}", "must be a non-empty string"))
        elif len(tag) > MAX_MEMORY_TAG_CHARS:
            problems.append(Problem(f"tags.{i}", f"at most {MAX_MEMORY_TAG_CHARS} characters"))
    if ttl_days is not None and (
        isinstance(ttl_days, bool)
        or not isinstance(ttl_days, int | float)
        or not 0 < ttl_days <= MAX_MEMORY_TTL_DAYS
    ):
        problems.append(
            Problem("ttl_days", f"a number of days, above 0, at most {MAX_MEMORY_TTL_DAYS}")
        )
    return problems


def new_memory(
    *,
    item_id: str,
    workspace_id: str,
    now: datetime,
    text: str,
    kind: str,
    tags: Sequence[object] = (),
    ttl_days: float | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
    source: str = "",
) -> MemoryItem:
    """A validated item; raises `ValidationFailed` naming every problem."""
    problems = memory_problems(text, kind, tags, ttl_days)
    if problems:
        raise ValidationFailed("memory", problems)
    unique_tags = list(dict.fromkeys(str(t).strip() for t in tags))
    return MemoryItem(
        id=item_id,
        workspace_id=workspace_id,
        kind=MemoryKind(kind),
        text=text.strip(),
        created_at=now,
        agent_id=agent_id,
        tags=unique_tags,
        run_id=run_id,
        task_id=task_id,
        source=source,
        expires_at=None if ttl_days is None else now + timedelta(days=ttl_days),
    )


# Letters and digits only: FTS5's unicode61 tokenizer and PostgreSQL's parser
# both split at underscores and punctuation, so this is where they agree.
_WORD = re.compile(r"[^\W_]+")
# Words so common that matching them says nothing. The 'simple' text-search
# configuration keeps them, so queries drop them here, for every store alike.
_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "how",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
    }
)


def word_tokens(text: str) -> list[str]:
    """The lower-cased words of `text`."""
    return [w.lower() for w in _WORD.findall(text)]


def content_words(text: str) -> list[str]:
    """The lower-cased words of `text` without stopwords, repeats kept (what
    the offline embedder hashes)."""
    return [w for w in word_tokens(text) if w not in _STOPWORDS]


def search_terms(query: str) -> list[str]:
    """The distinct words a search looks for, stopwords left out (unless the
    query holds nothing else)."""
    words = list(dict.fromkeys(word_tokens(query)))
    meaningful = [w for w in words if w not in _STOPWORDS]
    return (meaningful or words)[:_MAX_TERMS]


def overlap_score(terms: Iterable[str], item: MemoryItem) -> tuple[int, int]:
    """(distinct terms found, occurrences of them) in the item's text and
    tags: the in-memory store's ranking, higher first."""
    words = word_tokens(item.text + " " + " ".join(item.tags))
    counts: dict[str, int] = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    found = [counts[t] for t in terms if t in counts]
    return len(found), sum(found)
