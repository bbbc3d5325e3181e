"""Offline embedding for store tests: a bag of hashed words, normalised, 16 dimensions."""

import hashlib
import math

DIMS = 16


def _vector(text: str) -> list[float]:
    v = [0.0] * DIMS
    for word in text.lower().split():
        v[int(hashlib.md5(word.encode()).hexdigest(), 16) % DIMS] += 1.0
    norm = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / norm for x in v]


def embed(texts: list[str]) -> list[list[float]]:
    return [_vector(t) for t in texts]
