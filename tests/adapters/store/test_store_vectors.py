"""How the stores keep and rank vectors (adapters/store/vectors.py): float32
at unit length, and the same ranking with numpy or in pure Python."""

from __future__ import annotations

import random

import pytest

from swarmyard.adapters.store.vectors import decode, encode, most_similar


def test_vectors_are_kept_as_unit_float32() -> None:
    dims, data = encode([3.0, 4.0])
    assert (dims, len(data)) == (2, 8)
    assert list(decode(data)) == pytest.approx([0.6, 0.8], abs=1e-7)
    with pytest.raises(ValueError, match="zeros"):
        encode([0.0, 0.0])


def test_numpy_and_pure_python_rank_alike() -> None:
    rng = random.Random(7)
    candidates = [(f"m{n}", encode([rng.uniform(-1, 1) for _ in range(48)])[1]) for n in range(300)]
    candidates.append(("copy", candidates[0][1]))  # a tie: the newer (earlier) one first
    query = [rng.uniform(-1, 1) for _ in range(48)]
    fast = most_similar(query, candidates, limit=25, above=0.0, use_numpy=True)
    slow = most_similar(query, candidates, limit=25, above=0.0, use_numpy=False)
    assert fast == slow
    assert len(fast) == 25
    exact = most_similar(decode(candidates[0][1]), candidates, limit=2, above=0.0)
    assert exact == ["m0", "copy"]
    assert most_similar(query, candidates, limit=5, above=1.0) == []
    assert most_similar(query, [], limit=5, above=0.0) == []
