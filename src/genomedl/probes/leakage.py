"""Near-duplicate search across splits: for each query window, the highest identity to any train window.

Candidates come from a bottom-``s`` MinHash sketch of canonical k-mers (strand-independent) and an
inverted index over the train sketches; only candidates are compared base by base (Hamming identity of
equal-length windows, forward and reverse complement), so the cost grows with N, not N². Tokens are uint8
``[N, L]`` (A=0 C=1 G=2 T=3 N=4); N never matches.
"""

from __future__ import annotations

import numpy as np

CHUNK = 8192  # windows (sketches) or candidate pairs handled at once; bounds memory
_MIX = np.uint64(0x9E3779B97F4A7C15)
_NONE = np.uint64(np.iinfo(np.uint64).max)  # the hash of a k-mer that holds an N


def _codes(tokens: np.ndarray, k: int) -> np.ndarray:
    """2-bit codes ``[n, L - k + 1]`` (uint64) of the k-mers of ``tokens`` ``[n, L]``; N read as A."""
    t = np.minimum(tokens, 3).astype(np.uint64)
    width = tokens.shape[1] - k + 1
    codes = np.zeros((len(tokens), width), np.uint64)
    for i in range(k):
        codes = (codes << np.uint64(2)) | t[:, i : i + width]
    return codes


def sketch(tokens: np.ndarray, k: int, size: int) -> np.ndarray:
    """Bottom-``size`` hashes ``[n, size]`` (uint64, sorted) of each window's canonical k-mers (hash of
    min(forward, reverse complement) code); k-mers with an N are left out (``_NONE``)."""
    tokens = np.asarray(tokens)
    forward = _codes(tokens, k)
    reverse = _codes(reverse_complement(tokens), k)[:, ::-1]
    canonical = np.minimum(forward, reverse)
    hashed = canonical * _MIX
    hashed ^= hashed >> np.uint64(29)
    has_n = np.lib.stride_tricks.sliding_window_view(tokens > 3, k, axis=1).any(2)
    hashed[has_n] = _NONE
    size = min(size, hashed.shape[1])
    return np.sort(np.partition(hashed, size - 1, axis=1)[:, :size], axis=1)


def reverse_complement(tokens: np.ndarray) -> np.ndarray:
    """Reverse complement of uint8 tokens ``[n, L]`` (N stays N)."""
    tokens = np.asarray(tokens)
    return np.where(tokens < 4, 3 - tokens, tokens)[:, ::-1].astype(np.uint8)


def _sketches(tokens: np.ndarray, rows: np.ndarray, k: int, size: int) -> np.ndarray:
    return np.concatenate(
        [sketch(tokens[rows[i : i + CHUNK]], k, size) for i in range(0, len(rows), CHUNK)]
        or [np.zeros((0, size), np.uint64)]
    )


def candidates(
    train: np.ndarray, query: np.ndarray, max_occurrences: int, max_candidates: int
) -> tuple[np.ndarray, np.ndarray]:
    """(query row, train row) pairs ``[P]`` that share sketch hashes, at most ``max_candidates`` per query
    (most shared first). ``train``/``query``: sketches ``[n, s]``; hashes in more than ``max_occurrences``
    train windows (repeats, low complexity) are not indexed."""
    flat = train.ravel()
    owner = np.repeat(np.arange(len(train)), train.shape[1])
    keep = flat != _NONE
    flat, owner = flat[keep], owner[keep]
    values, counts = np.unique(flat, return_counts=True)
    frequent = values[counts > max_occurrences]
    keep = ~np.isin(flat, frequent)
    flat, owner = flat[keep], owner[keep]
    order = np.argsort(flat, kind="stable")
    flat, owner = flat[order], owner[order]
    q = query.ravel()
    q_owner = np.repeat(np.arange(len(query)), query.shape[1])
    left, right = np.searchsorted(flat, q, "left"), np.searchsorted(flat, q, "right")
    hits = right - left
    q_owner, left, hits = q_owner[hits > 0], left[hits > 0], hits[hits > 0]
    if not len(hits):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.repeat(left - np.cumsum(hits) + hits, hits) + np.arange(hits.sum())
    pairs = np.repeat(q_owner, hits).astype(np.int64) * len(train) + owner[starts]
    pairs, shared = np.unique(pairs, return_counts=True)
    order = np.lexsort((-shared, pairs // len(train)))
    pairs = pairs[order]
    rows = pairs // len(train)
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows, "left")
    pairs = pairs[rank < max_candidates]
    return pairs // len(train), pairs % len(train)


def identity(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hamming identity ``[P]`` of equal-length windows ``a``/``b`` ``[P, L]`` on the better strand, and
    whether that strand is the reverse complement ``[P]`` (bool)."""
    called = (a < 4) & (b < 4)
    forward = ((a == b) & called).mean(1)
    rc = reverse_complement(a)
    reverse = ((rc == b) & (rc < 4) & (b < 4)).mean(1)
    return np.maximum(forward, reverse), reverse > forward


def nearest(
    tokens: np.ndarray,
    train_rows: np.ndarray,
    query_rows: np.ndarray,
    k: int,
    size: int,
    max_occurrences: int,
    max_candidates: int,
) -> dict[str, np.ndarray]:
    """Per query window: ``identity`` (best over the candidates, NaN without any), ``train`` row of that
    twin (-1 without) and ``reverse`` (twin on the other strand). ``tokens`` ``[N, L]``; rows index it."""
    train_sketch = _sketches(tokens, train_rows, k, size)
    query_sketch = _sketches(tokens, query_rows, k, size)
    q, t = candidates(train_sketch, query_sketch, max_occurrences, max_candidates)
    best = np.full(len(query_rows), np.nan)
    twin = np.full(len(query_rows), -1, np.int64)
    reverse = np.zeros(len(query_rows), bool)
    for i in range(0, len(q), CHUNK):
        qi, ti = q[i : i + CHUNK], t[i : i + CHUNK]
        ident, rc = identity(tokens[query_rows[qi]], tokens[train_rows[ti]])
        order = np.lexsort((ident, qi))  # per query, best last
        last = np.r_[qi[order][1:] != qi[order][:-1], True]
        rows, ident, rc, ti = qi[order][last], ident[order][last], rc[order][last], ti[order][last]
        better = ~(best[rows] >= ident)
        rows, ident, rc, ti = rows[better], ident[better], rc[better], ti[better]
        best[rows], twin[rows], reverse[rows] = ident, train_rows[ti], rc
    return {"identity": best, "train": twin, "reverse": reverse}
