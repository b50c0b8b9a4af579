"""Collapse identical windows (same bases, or reverse complements of each other) before splitting."""

from __future__ import annotations

import numpy as np
import pandas as pd

from genomedl.sequence import reverse_complement


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
    ids, names = labels["id"].to_numpy(), labels["label"].to_numpy()
    examples = [  # the first three conflicting groups, each as "id label = id label" (at most three members)
        " = ".join(f"{ids[row]} {names[row]}" for row in np.flatnonzero(group == g)[:3])
        for g in np.flatnonzero(n_labels > 1)[:3]
    ]
    counts = {
        "exact": int(len(windows) - n_exact_unique),
        "reverse_complement": int(n_exact_unique - len(first)),
        "conflicting_groups": int((n_labels > 1).sum()),
        "dropped_conflicting": int(conflicting.sum()),
        "conflict_examples": examples,
    }
    return labels[keep].reset_index(drop=True), windows[keep], counts


def dedupe_mode(mode: str, predefined: bool) -> str:
    """split.dedupe resolved: ``auto`` -> ``report`` for predefined splits, ``collapse`` otherwise; ``near``
    collapses exact duplicates here and leaves near duplicates to the qc stage."""
    if mode == "auto":
        return "report" if predefined else "collapse"
    return "collapse" if mode == "near" else mode


def twins_across_splits(windows: np.ndarray, split: np.ndarray) -> dict:
    """Identical / reverse-complement windows in two predefined splits (rows kept): groups spanning
    splits, and how many test rows have an identical or reverse-complement twin in train."""
    exact = np.unique(_row_keys(windows), return_inverse=True)[1].ravel()
    either = np.unique(_row_keys(canonical(windows)), return_inverse=True)[1].ravel()
    frame = pd.DataFrame({"exact": exact, "either": either, "split": split})
    spanning = frame.groupby("either")["split"].nunique()
    in_train = {key: set(frame.loc[frame["split"] == "train", key]) for key in ("exact", "either")}
    test = frame[frame["split"] == "test"]
    identical = test["exact"].isin(in_train["exact"])
    return {
        "groups_in_two_splits": int((spanning > 1).sum()),
        "test_rows_with_identical_train_twin": int(identical.sum()),
        "test_rows_with_reverse_complement_train_twin": int(
            (test["either"].isin(in_train["either"]) & ~identical).sum()
        ),
    }


def apply_dedupe(
    labels: pd.DataFrame, windows: np.ndarray, mode: str, predefined: bool
) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """The one place split.dedupe is handled: collapse (:func:`collapse_duplicates`) or report (keep every
    row, count duplicates and, for predefined splits, twins across splits). Returns (labels, windows, counts)."""
    resolved = dedupe_mode(mode, predefined)
    kept, kept_windows, counts = collapse_duplicates(labels, windows)
    counts["mode"] = resolved
    if resolved == "collapse":
        return kept, kept_windows, counts
    counts["dropped_conflicting"] = 0
    if predefined:
        counts["across_splits"] = twins_across_splits(windows, labels["split"].to_numpy(dtype=object))
    return labels, windows, counts


def waived_guards(mode: str, strategy: str) -> set[str]:
    """Leakage guards that report instead of stopping: the sequence guards of predefined splits kept whole."""
    return (
        {"identical_sequence", "reverse_complement"}
        if dedupe_mode(mode, strategy == "predefined") == "report"
        else set()
    )
