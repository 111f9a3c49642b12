"""A deterministic keyword encoder for unit tests of the logic around the model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from earmark.tagging.encoder import TextEncoder

KEYWORDS = ("sport", "goal", "team", "vote", "election", "senate", "money", "bank", "hello", "okay")


class KeywordEncoder(TextEncoder):
    """One dimension per keyword plus a shared 'generic' dimension; counts calls."""

    name = "keywords"
    dim = len(KEYWORDS) + 1
    max_tokens = 32

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            low = text.lower()
            for j, kw in enumerate(KEYWORDS):
                out[i, j] = low.count(kw)
            out[i, -1] = 0.5
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [2 + len(t.split()) for t in texts]


class TwoPoolEncoder(KeywordEncoder):
    """A KeywordEncoder whose weighted pooling counts 'sport' and the generic dimension less."""

    name = "keywords-two-pool"
    WEIGHTS = np.array([0.2] + [1.0] * (len(KEYWORDS) - 1) + [0.1], dtype=np.float32)

    def encode_pair(
        self, texts: Sequence[str]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        mean = self.encode(texts)
        weighted = mean * self.WEIGHTS
        weighted /= np.linalg.norm(weighted, axis=1, keepdims=True)
        return mean, weighted
