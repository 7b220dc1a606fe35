"""Unit vectors and reciprocal-rank fusion (domain/vectors.py)."""

from __future__ import annotations

import math

import pytest

from swarmyard.domain.vectors import dot, fuse_ranked, unit_vector


def test_unit_vector_and_dot() -> None:
    v = unit_vector([3.0, 4.0])
    assert v == pytest.approx((0.6, 0.8))
    assert dot(v, v) == pytest.approx(1.0)
    assert dot(unit_vector([1.0, 0.0]), unit_vector([0.0, 2.0])) == 0.0
    for bad, why in (([], "no dimensions"), ([0.0, 0.0], "zeros"), ([1.0, math.nan], "finite")):
        with pytest.raises(ValueError, match=why):
            unit_vector(bad)
    with pytest.raises(ValueError, match=r"shorter|longer"):
        dot([1.0], [1.0, 0.0])


def test_fusion_favours_items_both_lists_rank() -> None:
    words = ["a", "b", "c"]
    vectors = ["d", "b", "a"]
    # a: 1/61 + 1/63 edges out b: 2/62; both beat d (1/61) and c (1/63).
    assert fuse_ranked([words, vectors], limit=10) == ["a", "b", "d", "c"]
    assert fuse_ranked([words, vectors], limit=1) == ["a"]
    # Equal sums: the first list's item first, then first met.
    assert fuse_ranked([["x"], ["y"]], limit=5) == ["x", "y"]
    assert fuse_ranked([[], []], limit=5) == []
    assert fuse_ranked([words], limit=0) == []
