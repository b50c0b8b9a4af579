"""Layout probe: does the signal sit at fixed positions of the window, or anywhere in it?

Two logistic regressions are fitted on the train windows and score the validation windows: one on the k-mer
frequencies (k = 1...4, where in the window a k-mer sits is lost) and one on the base composition per position
bin (where each base sits is kept). Where a binding site can sit anywhere (peaks of a ChIP-seq experiment) the
k-mer model wins; where windows are centred on a site (splice sites, promoters, exon boundaries) the per-position
model wins. Never reads the test split: its verdict steers training (``head: auto`` of the cnn).
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from genomedl.probes.shortcuts import features, score
from genomedl.probes.strand import STRAND_K, featurise, probe_rows, resamples
from genomedl.stats.bootstrap import interval


def fitted_scores(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, n_classes: int):
    """The AUROC of a logistic regression fitted on train, as a function of bootstrap weights ``[B, n_val]``."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(x_train, y_train)
    probs = np.zeros((len(x_val), n_classes))
    probs[:, model.classes_] = model.predict_proba(x_val)
    return score(y_val, probs)


def layout_probe(
    tokens, y: np.ndarray, split: np.ndarray, max_train: int, position_bin: int, n_boot: int, seed: int
) -> dict:
    """Fit both models on (at most ``max_train``) train windows, score the val windows.

    Returns ``kmer`` and ``position`` val AUROC, ``difference_ci`` (95 % paired bootstrap interval of k-mer minus
    position), ``anywhere`` (the k-mer model wins: the interval lies above 0) and ``reason`` (one sentence)."""
    rows = probe_rows(y, split, max_train, seed)
    if rows is None:
        return {"anywhere": False, "reason": "no validation windows of two classes to probe the layout with"}
    train, val = rows
    n_classes = int(y.max()) + 1
    kmer = fitted_scores(featurise(tokens, train), y[train], featurise(tokens, val), y[val], n_classes)
    position = fitted_scores(
        features(tokens, train, "position", position_bin),
        y[train],
        features(tokens, val, "position", position_bin),
        y[val],
        n_classes,
    )
    ones = np.ones((1, len(val)))
    at_kmer, at_position = float(kmer(ones)[0]), float(position(ones)[0])
    weights = resamples(len(val), n_boot, seed)
    low, high = interval(kmer(weights) - position(weights))
    anywhere = low > 0
    reason = (
        f"on the validation windows a k-mer model (k <= {STRAND_K}) scores AUROC {at_kmer:.3f} and a per-position "
        f"base model ({position_bin}-bp bins) {at_position:.3f} (difference 95 % interval [{low:+.3f}, {high:+.3f}]): "
        + ("the signal sits anywhere in the window" if anywhere else "position carries the signal, or may")
    )
    return {
        "kmer": round(at_kmer, 4),
        "position": round(at_position, 4),
        "difference_ci": [low, high],
        "val_windows": int(len(val)),
        "anywhere": bool(anywhere),
        "reason": reason,
    }
