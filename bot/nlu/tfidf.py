"""TF-IDF features of one message, read straight from a fitted vectorizer's vocabulary.

scikit-learn's `transform` validates its input and builds a sparse matrix on every call, which costs
far more than the arithmetic for a single short message. This gives the same numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NO_FEATURES = (np.zeros(0, dtype=np.intp), np.zeros(0))


class DirectTfidf:
    """One fitted, l2-normalised `TfidfVectorizer`, applied to one message at a time."""

    def __init__(self, vectorizer: Any, offset: int = 0) -> None:
        if vectorizer.binary or vectorizer.norm != "l2":
            raise ValueError("direct TF-IDF assumes counted, l2-normalised features")
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf = vectorizer.idf_ if vectorizer.use_idf else None
        self.sublinear = bool(vectorizer.sublinear_tf)
        self.offset = offset  # where these features start when several vectorizers are stacked

    def __len__(self) -> int:
        return len(self.vocabulary)

    def transform(self, text: str) -> tuple[Any, Any]:
        """The message's features: their positions and their weights."""
        counts: dict[int, int] = {}
        for gram in self.analyze(text):
            j = self.vocabulary.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return NO_FEATURES
        cols = np.fromiter(counts, dtype=np.intp, count=len(counts))
        values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if self.sublinear:
            values = 1.0 + np.log(values)
        if self.idf is not None:
            values = values * self.idf[cols]
        values /= np.sqrt(values @ values)
        return cols + self.offset, values


def stacked(vectorizers: list[DirectTfidf], text: str) -> tuple[Any, Any]:
    """The features of several vectorizers side by side, as a `FeatureUnion` stacks them."""
    parts = [v.transform(text) for v in vectorizers]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
