"""Shortcut probes: how well a simple classifier on one feature family tells the classes apart.

Each family turns uint8 tokens ``[N, L]`` (A=0 C=1 G=2 T=3 N=4) into a small float matrix ``[N, F]``; a
standardised logistic regression is fitted on (a sample of) the train windows and scored on the test
windows: AUROC (binary: of the second class; more classes: macro one-vs-rest) with a bootstrap interval.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from genomedl.stats.bootstrap import interval, resample_weights
from genomedl.stats.metrics import auroc

CHUNK = 20000  # windows featurised at once


def gc_content(tokens: np.ndarray, position_bin: int) -> np.ndarray:
    """GC fraction of the called bases ``[N, 1]``."""
    called = np.maximum((tokens < 4).sum(1), 1)
    return (((tokens == 1) | (tokens == 2)).sum(1) / called)[:, None]


def length_n(tokens: np.ndarray, position_bin: int) -> np.ndarray:
    """Called bases / L, and N bases in the first and the last half ``[N, 3]`` (padding shows as N at an edge)."""
    n = tokens > 3
    half = tokens.shape[1] // 2
    return np.stack([(~n).mean(1), n[:, :half].mean(1), n[:, half:].mean(1)], 1)


def kmer_spectrum(tokens: np.ndarray, position_bin: int) -> np.ndarray:
    """Frequencies of every k-mer for k = 1, 2, 3 ``[N, 84]`` (k-mers with an N left out)."""
    return kmer_frequencies(tokens, (1, 2, 3))


def kmer_frequencies(tokens: np.ndarray, ks) -> np.ndarray:
    """Frequencies of every k-mer of each k in ``ks`` per window ``[N, sum 4**k]`` (k-mers with an N left out)."""
    t = tokens.astype(np.int64)
    rows = np.arange(len(t))[:, None]
    parts = []
    for k in ks:
        width = t.shape[1] - k + 1
        code = np.zeros((len(t), width), np.int64)
        valid = np.ones((len(t), width), bool)
        for i in range(k):
            code = code * 4 + np.minimum(t[:, i : i + width], 3)
            valid &= t[:, i : i + width] < 4
        counts = np.bincount((rows * 4**k + code)[valid], minlength=len(t) * 4**k).reshape(len(t), 4**k)
        parts.append(counts / np.maximum(counts.sum(1, keepdims=True), 1))
    return np.concatenate(parts, 1)


def position_composition(tokens: np.ndarray, position_bin: int) -> np.ndarray:
    """Share of A, C, G, T in each bin of ``position_bin`` positions ``[N, 4 * ceil(L / position_bin)]``."""
    n, length = tokens.shape
    bins = -(-length // position_bin)
    bin_of = np.arange(length) // position_bin
    out = np.zeros((n, bins, 4))
    for base in range(4):
        hit = (tokens == base).astype(np.float32)
        out[:, :, base] = np.add.reduceat(hit, np.r_[0:length:position_bin], axis=1)
    return (out / np.bincount(bin_of)[None, :, None]).reshape(n, -1)


FAMILIES = {"gc": gc_content, "length_n": length_n, "kmer": kmer_spectrum, "position": position_composition}


def features(tokens: np.ndarray, rows: np.ndarray, family: str, position_bin: int) -> np.ndarray:
    """Features ``[len(rows), F]`` of one family for ``tokens[rows]``."""
    make = FAMILIES[family]
    return np.concatenate(
        [make(np.asarray(tokens[rows[i : i + CHUNK]]), position_bin) for i in range(0, len(rows), CHUNK)]
    )


def score(y: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """AUROC per weight row as :mod:`genomedl.stages.evaluate` reports it: the second class's when binary, else
    the mean over classes (one-vs-rest). ``y`` ``[N]`` ints; ``probs`` ``[N, C]``; returns a function of
    weights ``[B, N]``."""
    classes = range(probs.shape[1])
    return lambda w: (
        auroc(y == 1, probs[:, 1], w)
        if probs.shape[1] == 2
        else np.mean([auroc(y == c, probs[:, c], w) for c in classes], 0)
    )


def probe(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, n_boot: int, seed: int
) -> dict:
    """Fit on train, score on test: ``auroc`` and its 95% bootstrap ``ci`` (``y`` ints in 0..C-1)."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
    model.fit(x_train, y_train)
    probs = np.zeros((len(x_test), int(max(y_train.max(), y_test.max())) + 1))
    probs[:, model.classes_] = model.predict_proba(x_test)
    metric = score(y_test, probs)
    value = float(metric(np.ones((1, len(y_test))))[0])
    boot = np.concatenate(
        [metric(resample_weights(len(y_test), min(50, n_boot - i), seed + i)) for i in range(0, n_boot, 50)]
    )
    return {"auroc": round(value, 4), "ci": interval(boot)}
