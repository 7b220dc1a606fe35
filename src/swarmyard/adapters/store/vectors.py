"""Memory vectors as the stores keep them, and brute-force nearest search.

A vector is stored as float32 values, little-endian, at unit length: half
the bytes of float64 and more precision than ranking needs, and the same
bytes on every database (and in the memory store, which keeps rows as a
database would). At unit length the cosine is a dot product.

Search compares the query with every candidate vector in turn rather than
keeping an approximate index (HNSW, IVF): a workspace's memory is a few
thousand items, which pure Python ranks in about 20 ms per thousand
512-dimension vectors (50 ms at 1536), and nothing has to be kept in step
with the rows. numpy, when installed, does the same arithmetic somewhat
faster; it is not a dependency.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Sequence
from functools import cache
from itertools import islice
from operator import mul
from typing import Any

from swarmyard.domain.vectors import unit_vector

from .rows import Row

__all__ = ["decode", "encode", "most_similar", "vector_row"]

_BIG_ENDIAN = sys.byteorder == "big"


def encode(vector: Sequence[float]) -> tuple[int, bytes]:
    """(dimensions, bytes) of `vector` scaled to unit length. Raises ValueError
    for a vector without a direction (empty, zero, not finite)."""
    values = array("f", unit_vector(vector))
    if _BIG_ENDIAN:  # pragma: no cover - no big-endian test host
        values.byteswap()
    return len(values), values.tobytes()


def vector_row(item_id: str, workspace_id: str, model: str, vector: Sequence[float]) -> Row:
    """The ``memory_vectors`` row of `vector`, encoded (so raising ValueError,
    before any write, for a vector without a direction)."""
    dims, data = encode(vector)
    return {
        "item_id": item_id,
        "workspace_id": workspace_id,
        "model": model,
        "dims": dims,
        "vector": data,
    }


def decode(data: bytes) -> array[float]:
    values = array("f")
    values.frombytes(data)
    if _BIG_ENDIAN:  # pragma: no cover - no big-endian test host
        values.byteswap()
    return values


def most_similar(
    query: Sequence[float],
    candidates: Iterable[tuple[str, bytes]],
    *,
    limit: int,
    above: float,
    use_numpy: bool = True,
) -> list[str]:
    """The keys of the `limit` candidates most similar to `query` (a vector
    of their length), only those more similar than `above`. Candidates come
    newest first; equal similarities keep that order."""
    target = unit_vector(query)
    keyed = list(candidates)
    if not keyed or limit <= 0:
        return []
    np = _numpy() if use_numpy else None
    if np is not None:
        scores = _numpy_scores(np, target, keyed)
    else:
        scores = [sum(map(mul, decode(data), target)) for _, data in keyed]
    # sorted() is stable: equal scores stay newest first.
    ranked = sorted(range(len(keyed)), key=lambda i: scores[i], reverse=True)
    best = (keyed[i][0] for i in ranked if scores[i] > above)
    return list(islice(best, limit))


@cache
def _numpy() -> Any:
    """numpy, or None without it; imported at the first search, not when the
    stores are (it costs a process start about a tenth of a second)."""
    try:  # optional: the arithmetic of `most_similar` works without it
        import numpy  # noqa: PLC0415
    except ImportError:  # pragma: no cover - numpy is present in the dev environment
        return None
    return numpy


def _numpy_scores(np: Any, target: Sequence[float], keyed: list[tuple[str, bytes]]) -> list[float]:
    matrix: Any = np.frombuffer(b"".join(data for _, data in keyed), dtype="<f4")
    matrix = matrix.reshape(len(keyed), len(target)).astype(np.float64)
    return [float(s) for s in matrix @ np.asarray(target, dtype=np.float64)]
