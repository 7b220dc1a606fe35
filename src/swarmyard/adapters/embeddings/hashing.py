"""An offline embedder: feature-hashed words and character n-grams.

It measures how much two texts look alike, not what they mean: "deploying"
finds "deployment" (they share most of their letter sequences), but "car"
never finds "automobile". That makes it useful beside full-text search —
inflections, compounds and typos that whole-word search misses — and it
needs no model, no server and no download. It is also the embedder of
tests, which need vectors that do not change between runs or machines.

Each content word (stopwords left out, `domain.memory`) counts as one
feature, and each of its character 3- and 4-grams, with word boundaries
marked, counts half. Counts are dampened (1 + log n), each feature is
hashed with BLAKE2b (stable across processes, unlike `hash()`) to one of
`dimensions` places and a sign (signed hashing keeps collisions from
adding up), and the vector is scaled to unit length.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence

from ...domain.memory import content_words, word_tokens
from ...domain.vectors import unit_vector
from ...ports import EmbeddingFailed

__all__ = ["DEFAULT_DIMENSIONS", "HashingEmbedder"]

DEFAULT_DIMENSIONS = 512
_NGRAMS = (3, 4)
_NGRAM_WEIGHT = 0.5
# Texts that share no feature still meet at a few hashed places: about
# 1/sqrt(dimensions) of similarity (0.04 at 512). Below this a match means
# the texts share almost nothing.
_NOISE_FLOOR = 0.15


class HashingEmbedder:
    """Deterministic lexical vectors, the same for documents and queries."""

    def __init__(self, dimensions: int = DEFAULT_DIMENSIONS) -> None:
        if not 16 <= dimensions <= 65_536:
            raise ValueError(f"dimensions must be from 16 to 65536, not {dimensions}")
        self._dimensions = dimensions

    @property
    def name(self) -> str:
        # The version names the feature recipe: a change to it is a new model.
        return f"hashing-v1-{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    @property
    def min_similarity(self) -> float:
        return _NOISE_FLOOR

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.vector(t) for t in texts]

    async def embed_query(self, text: str) -> list[float]:
        return self.vector(text)

    async def aclose(self) -> None:
        return None

    def vector(self, text: str) -> list[float]:
        """Raises EmbeddingFailed for a blank text."""
        vector = [0.0] * self._dimensions
        for feature, count in _features(text).items():
            place, sign = self._place(feature)
            weight = _NGRAM_WEIGHT if feature[0] == "#" else 1.0
            vector[place] += sign * weight * (1.0 + math.log(count))
        try:
            return list(unit_vector(vector))
        except ValueError:  # all zeros: no feature at all
            raise EmbeddingFailed("the text is blank: nothing to embed") from None

    def _place(self, feature: str) -> tuple[int, float]:
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        number = int.from_bytes(digest, "little")
        return (number >> 1) % self._dimensions, (1.0 if number & 1 else -1.0)


def _features(text: str) -> Counter[str]:
    """Words as ``w:word``, n-grams as ``#<de`` (``<``/``>`` mark the ends).
    A text of stopwords only is its stopwords, as for full-text search; a
    text without words (``!!!``, emoji) is its characters, so every item a
    person can save gets a vector and none blocks a reindex."""
    features: Counter[str] = Counter()
    for word in content_words(text) or word_tokens(text):
        features["w:" + word] += 1
        marked = f"<{word}>"
        for n in _NGRAMS:
            for start in range(len(marked) - n + 1):
                features["#" + marked[start : start + n]] += 1
    if not features:
        features.update("c:" + ch for ch in text if not ch.isspace())
    return features
