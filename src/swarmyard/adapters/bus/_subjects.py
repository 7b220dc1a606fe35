"""Subject grammar and matching for the in-process bus.

Subjects follow NATS so that the same names work on both buses: tokens
separated by ``.``; in a pattern ``*`` stands for exactly one token and
``>`` (last token only) for one or more trailing tokens.

Matching goes through a token trie rather than a list of patterns: the
platform subscribes per run, per WebSocket client and per request inbox, so
thousands of live subscriptions are normal, and a publish must cost the
depth of the subject (times the wildcard branches taken), not the number of
subscriptions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

__all__ = ["SubjectTrie", "pattern_covers", "patterns_overlap", "split_pattern", "split_subject"]

T = TypeVar("T")

_ONE = "*"
_REST = ">"
_WHITESPACE = frozenset(" \t\r\n")


def split_subject(subject: str) -> list[str]:
    """The tokens of a concrete subject (what messages are published to)."""
    tokens = _split(subject, "subject")
    if _ONE in tokens or _REST in tokens:
        raise ValueError(f"subject {subject!r} contains a wildcard; only patterns may")
    return tokens


def split_pattern(pattern: str) -> list[str]:
    """The tokens of a pattern (what subscriptions and consumer filters use)."""
    tokens = _split(pattern, "pattern")
    if _REST in tokens[:-1]:
        raise ValueError(f"pattern {pattern!r}: '>' may only be the last token")
    return tokens


def _split(text: str, what: str) -> list[str]:
    tokens = text.split(".")
    for token in tokens:
        if not token or not _WHITESPACE.isdisjoint(token):
            raise ValueError(f"invalid {what} {text!r}: tokens must be non-empty, without spaces")
    return tokens


def patterns_overlap(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether some subject matches both token patterns."""
    for token_a, token_b in zip(a, b, strict=False):
        if _REST in (token_a, token_b):
            # Both still have a token here, and '>' takes one or more of them.
            return True
        if token_a != token_b and _ONE not in (token_a, token_b):
            return False
    return len(a) == len(b)


def pattern_covers(wide: Sequence[str], narrow: Sequence[str]) -> bool:
    """Whether every subject matching token pattern `narrow` also matches `wide`."""
    for index, token in enumerate(wide):
        if token == _REST:
            return len(narrow) > index  # '>' takes whatever `narrow` has left, if anything
        if index >= len(narrow):
            return False
        theirs = narrow[index]
        if theirs == _REST or token not in (_ONE, theirs):
            return False  # `narrow` may put any tokens (or a different one) here
    return len(wide) == len(narrow)


class _Node(Generic[T]):
    __slots__ = ("children", "values")

    def __init__(self) -> None:
        self.children: dict[str, _Node[T]] = {}
        # A dict rather than a set: delivery order follows subscription order.
        self.values: dict[T, None] = {}


class SubjectTrie(Generic[T]):
    """Values filed under token patterns, found by concrete subject."""

    __slots__ = ("_root", "_size")

    def __init__(self) -> None:
        self._root: _Node[T] = _Node()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def insert(self, pattern: Sequence[str], value: T) -> None:
        node = self._root
        for token in pattern:
            node = node.children.setdefault(token, _Node())
        if value not in node.values:
            node.values[value] = None
            self._size += 1

    def remove(self, pattern: Sequence[str], value: T) -> None:
        path = [self._root]
        for token in pattern:
            child = path[-1].children.get(token)
            if child is None:
                return
            path.append(child)
        if value not in path[-1].values:
            return
        del path[-1].values[value]
        self._size -= 1
        # Prune emptied branches: request inboxes come and go by the thousand.
        for depth in range(len(pattern), 0, -1):
            node = path[depth]
            if node.values or node.children:
                break
            del path[depth - 1].children[pattern[depth - 1]]

    def values(self) -> Iterator[T]:
        """Every value, in no promised order."""
        stack = [self._root]
        while stack:
            node = stack.pop()
            yield from node.values
            stack.extend(node.children.values())

    def match(self, subject: Sequence[str]) -> list[T]:
        """Every value whose pattern matches the concrete `subject`."""
        found: list[T] = []
        level = [self._root]
        for token in subject:
            below: list[_Node[T]] = []
            for node in level:
                rest = node.children.get(_REST)
                if rest is not None:
                    found.extend(rest.values)
                exact = node.children.get(token)
                if exact is not None:
                    below.append(exact)
                one = node.children.get(_ONE)
                if one is not None:
                    below.append(one)
            if not below:
                return found
            level = below
        for node in level:
            found.extend(node.values)
        return found
