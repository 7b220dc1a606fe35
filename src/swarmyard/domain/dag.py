"""Dependency graphs between tasks."""

from __future__ import annotations

from collections.abc import Callable, Iterable

__all__ = ["find_cycle"]


def find_cycle(
    start: str, depends_on: Iterable[str], edges: Callable[[str], Iterable[str]]
) -> list[str] | None:
    """If making `start` depend on `depends_on` closes a loop, return it.

    The result reads as a path: ``[start, a, b, start]`` means start → a → b → start.
    `edges(x)` yields the tasks x already depends on.
    """
    for first in depends_on:
        stack: list[tuple[str, list[str]]] = [(first, [start, first])]
        seen: set[str] = set()
        while stack:
            node, path = stack.pop()
            if node == start:
                return path
            if node in seen:
                continue
            seen.add(node)
            for nxt in edges(node):
                stack.append((nxt, [*path, nxt]))
    return None
