"""Strand probe: do the labels hold on both strands of DNA?

A logistic regression on k-mer frequencies (k = 1...``STRAND_K``, stranded) is fitted on the
train windows and scores the validation windows twice: as they are and reverse-complemented. Where a label holds on
either strand (transcription-factor binding in unstranded peaks) the model's separation survives the reverse
complement; where windows are oriented on a feature's strand (splice sites, promoters) it falls. Never reads the
test split: its verdict steers training (``rc_augment: auto``).
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from genomedl.probes.leakage import reverse_complement
from genomedl.probes.shortcuts import CHUNK, kmer_frequencies, score
from genomedl.stats.bootstrap import interval, resample_weights

STRAND_K = 4  # k-mers of 1 to 4 bases: 340 features
MIN_SIGNAL = 0.55  # forward validation AUROC below this: too little signal to tell
KEEPS = 0.9  # both strands when the reverse complement keeps at least this share of the signal above chance ...
# ... at the lower end of its 95 % bootstrap interval (an equivalence test: small validation splits stay forward)


def featurise(tokens, rows: np.ndarray, reverse: bool = False) -> np.ndarray:
    """k-mer frequencies (k = 1...STRAND_K) of ``tokens[rows]`` ``[n, 340]``, reverse-complemented first with
    ``reverse``; chunk by chunk."""
    ks = range(1, STRAND_K + 1)
    return np.concatenate(
        [
            kmer_frequencies(reverse_complement(chunk) if reverse else chunk, ks).astype(np.float32)
            for chunk in (np.asarray(tokens[rows[i : i + CHUNK]]) for i in range(0, len(rows), CHUNK))
        ]
    )


def probe_rows(y: np.ndarray, split: np.ndarray, max_train: int, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(train rows, at most ``max_train`` as a seeded sample; val rows) to fit and score a probe on, or None when
    either lacks two classes. Never the test rows."""
    rng = np.random.default_rng(seed)
    train, val = np.flatnonzero(split == "train"), np.flatnonzero(split == "val")
    if len(train) > max_train:
        train = np.sort(rng.choice(train, max_train, replace=False))
    if len(val) == 0 or len(np.unique(y[train])) < 2 or len(np.unique(y[val])) < 2:
        return None
    return train, val


def resamples(n: int, n_boot: int, seed: int) -> np.ndarray:
    """Bootstrap weights ``[n_boot, n]`` of ``n`` validation windows, drawn 50 resamples at a time."""
    return np.concatenate([resample_weights(n, min(50, n_boot - i), seed + i) for i in range(0, n_boot, 50)])


def strand_probe(tokens, y: np.ndarray, split: np.ndarray, max_train: int, n_boot: int, seed: int) -> dict:
    """Fit on (at most ``max_train``) train windows, score the val windows forward and reverse-complemented.

    Returns ``forward`` and ``reverse`` val AUROC, ``kept`` = (reverse - 0.5) / (forward - 0.5) with its 95 %
    bootstrap interval (``kept_ci``, paired resamples of the val windows), ``both_strands`` (the labels hold on
    both strands: forward >= MIN_SIGNAL and the interval's lower end >= KEEPS) and ``reason`` (one sentence)."""
    rows = probe_rows(y, split, max_train, seed)
    if rows is None:
        return {"both_strands": False, "reason": "no validation windows of two classes to probe the strands with"}
    train, val = rows
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(featurise(tokens, train), y[train])
    n_classes = int(y.max()) + 1
    metrics = []
    for reverse in (False, True):
        probs = np.zeros((len(val), n_classes))
        probs[:, model.classes_] = model.predict_proba(featurise(tokens, val, reverse))
        metrics.append(score(y[val], probs))
    ones = np.ones((1, len(val)))
    forward, reverse = (float(m(ones)[0]) for m in metrics)
    weights = resamples(len(val), n_boot, seed)
    kept = (metrics[1](weights) - 0.5) / np.maximum(metrics[0](weights) - 0.5, 1e-9)
    low = interval(kept)[0]
    both = forward >= MIN_SIGNAL and low >= KEEPS
    share = (reverse - 0.5) / max(forward - 0.5, 1e-9)
    reason = (
        f"a k-mer model (k <= {STRAND_K}) fitted on train scores the validation windows at AUROC {forward:.3f} as they "
        f"are and {reverse:.3f} reverse-complemented ({share:.0%} of the signal above chance kept, 95 % interval from "
        f"{low:.0%}): "
        + (
            "the labels hold on both strands"
            if both
            else "too little k-mer signal to tell; the forward strand is kept"
            if forward < MIN_SIGNAL
            else "the windows are oriented (or the validation split is too small to show otherwise)"
        )
    )
    return {
        "forward": round(forward, 4),
        "reverse": round(reverse, 4),
        "kept": round(share, 4),
        "kept_ci": interval(kept),
        "val_windows": int(len(val)),
        "both_strands": bool(both),
        "reason": reason,
    }
