"""Leakage guards: sequence hashes of both strands, groups, class balance across splits.

Hashes are 128-bit (two 64-bit multiply-xorshift lanes over the little-endian 8-byte words of a
token row), computed chunk by chunk from the memory-mapped ``tokens.npy``: memory is ``N x 32`` bytes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

SPLITS = ("train", "val", "test")
_RC_TOKEN = np.array([3, 2, 1, 0, 4] + [255] * 251, dtype=np.uint8)
_LANES = (
    (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(31)),
    (np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x94D049BB133111EB), np.uint64(29)),
)


def _row_hashes(rows: np.ndarray) -> np.ndarray:
    """uint64 ``[n, 2]`` hashes of uint8 rows ``[n, L]`` (same L for all rows)."""
    n, length = rows.shape
    padded = np.zeros((n, -(-length // 8) * 8), dtype=np.uint8)
    padded[:, :length] = rows
    words = padded.view("<u8")
    out = np.empty((n, 2), dtype=np.uint64)
    for lane, (start, prime, shift) in enumerate(_LANES):
        h = np.full(n, start ^ np.uint64(length), dtype=np.uint64)
        for column in range(words.shape[1]):  # L / 8 vectorised passes
            h = (h ^ words[:, column]) * prime
            h ^= h >> shift
        out[:, lane] = h
    return out


def strand_hashes(tokens: np.ndarray, chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """(forward, canonical) 128-bit hashes ``[N, 2]`` of token rows; canonical = min(forward, reverse complement).

    Two rows share a canonical hash when they are identical or reverse-complement identical.
    """
    forward = np.empty((len(tokens), 2), dtype=np.uint64)
    canonical = np.empty_like(forward)
    for start in range(0, len(tokens), chunk):
        rows = np.asarray(tokens[start : start + chunk])
        fwd, rev = _row_hashes(rows), _row_hashes(_RC_TOKEN[rows][:, ::-1])
        take_rev = (rev[:, 0] < fwd[:, 0]) | ((rev[:, 0] == fwd[:, 0]) & (rev[:, 1] < fwd[:, 1]))
        forward[start : start + len(rows)] = fwd
        canonical[start : start + len(rows)] = np.where(take_rev[:, None], rev, fwd)
    return forward, canonical


def _codes(hashes: np.ndarray) -> np.ndarray:
    """Dense integer id per distinct hash row."""
    return np.unique(hashes, axis=0, return_inverse=True)[1].reshape(-1)


def merge_duplicate_groups(groups: np.ndarray, canonical: np.ndarray) -> tuple[np.ndarray, int]:
    """Join groups that share a sequence on either strand; returns (merged group id per row, groups merged away)."""
    group_ids = np.unique(groups, return_inverse=True)[1].reshape(-1)
    seq_ids = _codes(canonical)
    n_groups = group_ids.max() + 1
    graph = coo_matrix(
        (np.ones(len(groups)), (group_ids, n_groups + seq_ids)), shape=(n_groups + seq_ids.max() + 1,) * 2
    )
    _, component = connected_components(graph, directed=False)
    merged = component[group_ids]
    return merged, int(n_groups - len(np.unique(merged)))


def _spanning(keys: np.ndarray, split_code: np.ndarray) -> np.ndarray:
    """Boolean per row: its key occurs in more than one split."""
    pairs = np.unique(np.stack([keys, split_code], axis=1), axis=0)
    splits_per_key = np.bincount(pairs[:, 0], minlength=keys.max() + 1)
    return splits_per_key[keys] > 1


def leakage(split: np.ndarray, groups: np.ndarray, forward: np.ndarray, canonical: np.ndarray, ids: np.ndarray) -> dict:
    """Groups, identical sequences and reverse-complement-identical sequences found in two splits."""
    split_code = pd.Series(split).map({s: i for i, s in enumerate(SPLITS)}).to_numpy(np.int64)
    group_codes = np.unique(groups, return_inverse=True)[1].reshape(-1)
    group_leak = _spanning(group_codes, split_code)
    identical = _spanning(_codes(forward), split_code)
    reverse = _spanning(_codes(canonical), split_code) & ~identical
    leaked_groups = sorted(map(str, set(groups[group_leak])))
    return {
        "groups_in_two_splits": leaked_groups[:20],
        "n_groups_in_two_splits": len(leaked_groups),
        "identical_windows_in_two_splits": int(identical.sum()),
        "reverse_complement_windows_in_two_splits": int(reverse.sum()),
        "examples": {"identical": ids[identical][:5].tolist(), "reverse_complement": ids[reverse][:5].tolist()},
    }


def class_balance(y: np.ndarray, split: np.ndarray, classes: list[str]) -> dict:
    """Class counts and proportions per split, and the largest proportion gap between two splits."""
    frame = pd.crosstab(pd.Series(split, name="split"), pd.Series(y, name="label")).reindex(
        index=list(SPLITS), columns=classes, fill_value=0
    )
    proportions = frame.div(frame.sum(axis=1).replace(0, 1), axis=0)
    present = proportions[frame.sum(axis=1) > 0]
    gap = present.max() - present.min()
    worst = str(gap.idxmax())
    return {
        "class_counts": {s: {c: int(frame.loc[s, c]) for c in classes} for s in SPLITS},
        "class_proportions": {s: {c: round(float(proportions.loc[s, c]), 6) for c in classes} for s in SPLITS},
        "max_class_deviation": {"class": worst, "value": round(float(gap[worst]), 6)},
    }
