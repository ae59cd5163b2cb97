"""A deterministic bag-of-words hashing embedder: no model, no network."""

import hashlib
import math
import re
from collections.abc import Mapping
from typing import Any

from parlant.core.nlp.embedding import Embedder, EmbeddingResult
from parlant.core.nlp.tokenization import EstimatingTokenizer

DIMENSIONS = 256
_WORD = re.compile(r"[a-z0-9]+")


class WordCountTokenizer(EstimatingTokenizer):
    async def estimate_token_count(self, prompt: str) -> int:
        return len(prompt.split())


def embed_text(text: str, dimensions: int = DIMENSIONS) -> list[float]:
    """Hash each lower-cased word into a bucket; return the L2-normalised counts."""
    vector = [0.0] * dimensions
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        bucket = int.from_bytes(digest[:4], "big") % dimensions
        vector[bucket] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:
        vector[0] = 1.0
        return vector
    return [v / norm for v in vector]


class HashingEmbedder(Embedder):
    """Embeds texts by feature hashing, so similar wording gives similar vectors."""

    def __init__(self) -> None:
        self._tokenizer = WordCountTokenizer()

    async def embed(self, texts: list[str], hints: Mapping[str, Any] = {}) -> EmbeddingResult:
        return EmbeddingResult(vectors=[embed_text(text) for text in texts])

    @property
    def id(self) -> str:
        return f"offline-hashing-{DIMENSIONS}"

    @property
    def max_tokens(self) -> int:
        return 8192

    @property
    def tokenizer(self) -> EstimatingTokenizer:
        return self._tokenizer

    @property
    def dimensions(self) -> int:
        return DIMENSIONS
