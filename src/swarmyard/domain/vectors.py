"""The arithmetic of memory search by embeddings: unit vectors and rank fusion.

Vectors are kept at unit length, so their cosine similarity is a plain dot
product and a store ranks a query against thousands of items without
dividing by norms each time. Full-text and vector hits are merged by
reciprocal-rank fusion: it needs only the two orders, not comparable
scores (bm25, ts_rank and a cosine live on unrelated scales).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

__all__ = ["RRF_K", "dot", "fuse_ranked", "unit_vector"]

# The constant of reciprocal-rank fusion (Cormack et al., 2009): large enough
# that the first few places of one list do not drown the other list.
RRF_K = 60


def unit_vector(values: Iterable[float]) -> tuple[float, ...]:
    """`values` scaled to length 1. Raises ValueError for an empty, zero or
    non-finite vector: none of those has a direction to compare."""
    vector = tuple(float(v) for v in values)
    if not vector:
        raise ValueError("an embedding has no dimensions")
    if not all(math.isfinite(v) for v in vector):
        raise ValueError("an embedding holds a value that is not a finite number")
    norm = math.sqrt(math.fsum(v * v for v in vector))
    if norm == 0.0:
        raise ValueError("an embedding is all zeros")
    return tuple(v / norm for v in vector)


def dot(a: Sequence[float], b: Sequence[float]) -> float:
    """The cosine similarity of two unit vectors of the same length."""
    return math.fsum(x * y for x, y in zip(a, b, strict=True))


def fuse_ranked(rankings: Sequence[Sequence[str]], *, limit: int, k: int = RRF_K) -> list[str]:
    """Reciprocal-rank fusion of best-first lists of ids: each place r (from
    1) in a list adds 1 / (k + r). Equal sums keep the order in which ids
    were first met, earlier lists first, so a tie goes to the list given
    first."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for place, item_id in enumerate(ranking, start=1):
            scores[item_id] = scores.get(item_id, 0.0) + 1.0 / (k + place)
    # dicts keep insertion order and sorted() is stable: ties stay first-met.
    ordered = sorted(scores, key=lambda item_id: scores[item_id], reverse=True)
    return ordered[: max(limit, 0)]
