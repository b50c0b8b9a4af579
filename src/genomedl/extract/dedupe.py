"""Collapse identical windows (same bases, or reverse complements of each other) before splitting."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..sequence import reverse_complement


def _row_keys(windows: np.ndarray) -> np.ndarray:
    """One opaque, comparable key per row of a uint8 ``[n, L]`` array."""
    contiguous = np.ascontiguousarray(windows)
    return contiguous.view(np.dtype((np.void, contiguous.shape[1]))).ravel()


def canonical(windows: np.ndarray) -> np.ndarray:
    """Each window or its reverse complement, whichever is lexicographically smaller, uint8 ``[n, L]``."""
    rc = reverse_complement(windows)
    differ = windows != rc
    first = differ.argmax(axis=1)
    rows = np.arange(len(windows))
    use_rc = differ.any(axis=1) & (rc[rows, first] < windows[rows, first])
    return np.where(use_rc[:, None], rc, windows)


def collapse_duplicates(labels: pd.DataFrame, windows: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """Keep the first of each group of identical (or reverse-complement identical) windows.

    Groups whose windows carry different labels are dropped whole and reported.
    ``labels`` rows align with ``windows`` ``[n, L]``; returns (labels, windows, counts).
    """
    if len(windows) == 0:
        return (
            labels,
            windows,
            {
                "exact": 0,
                "reverse_complement": 0,
                "conflicting_groups": 0,
                "dropped_conflicting": 0,
                "conflict_examples": [],
            },
        )
    n_exact_unique = len(np.unique(_row_keys(windows)))
    _, first, group = np.unique(_row_keys(canonical(windows)), return_index=True, return_inverse=True)
    group = group.ravel()
    n_labels = pd.Series(labels["label"].to_numpy()).groupby(group).nunique().to_numpy()
    conflicting = n_labels[group] > 1
    keep = np.zeros(len(windows), bool)
    keep[first] = True
    keep &= ~conflicting
    clash = labels[conflicting].head(6)
    examples = [f"{i} {label}" for i, label in zip(clash["id"], clash["label"])]
    counts = {
        "exact": int(len(windows) - n_exact_unique),
        "reverse_complement": int(n_exact_unique - len(first)),
        "conflicting_groups": int((n_labels > 1).sum()),
        "dropped_conflicting": int(conflicting.sum()),
        "conflict_examples": examples,
    }
    return labels[keep].reset_index(drop=True), windows[keep], counts
