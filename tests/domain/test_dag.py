"""Dependency cycles are found and named."""

from __future__ import annotations

from swarmyard.domain import find_cycle

GRAPH = {"a": ["b"], "b": ["c"], "c": [], "d": ["a"]}


def test_cycle_is_returned_as_a_path() -> None:
    # making c depend on d closes c -> d -> a -> b -> c
    assert find_cycle("c", ["d"], lambda n: GRAPH.get(n, [])) == ["c", "d", "a", "b", "c"]


def test_self_dependency() -> None:
    assert find_cycle("a", ["a"], lambda n: GRAPH.get(n, [])) == ["a", "a"]


def test_no_cycle() -> None:
    assert find_cycle("d", ["c"], lambda n: GRAPH.get(n, [])) is None
