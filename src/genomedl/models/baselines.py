"""The classic baselines as models: k-mer frequency (k = 1...4) or one-hot (base per position) features, a
standardisation and a logistic regression, rebuilt from the arrays the baseline stage saves (``model.npz``)."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler


def kmer_counts(tokens: np.ndarray, k: int) -> np.ndarray:
    """Overlapping k-mer frequencies ``[N, 4**k]`` (float32) of tokens ``[N, L]``; k-mers with N skipped."""
    n, length = tokens.shape
    if length < k:
        return np.zeros((n, 4**k), dtype=np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(tokens, k, axis=1)  # [N, L-k+1, k]
    valid = (windows < 4).all(axis=2)
    codes = (windows.astype(np.int64) * (4 ** np.arange(k - 1, -1, -1))).sum(axis=2)
    flat = np.where(valid, codes + np.arange(n)[:, None] * 4**k, -1).ravel()
    counts = np.bincount(flat[flat >= 0], minlength=n * 4**k).reshape(n, 4**k)
    return (counts / np.maximum(valid.sum(axis=1, keepdims=True), 1)).astype(np.float32)


def kmer_features(tokens: np.ndarray, ks: list[int]) -> np.ndarray:
    """Concatenated k-mer frequencies for every k in ``ks``: ``[N, sum(4**k)]``."""
    return np.concatenate([kmer_counts(tokens, k) for k in ks], axis=1)


def onehot_features(tokens: np.ndarray) -> np.ndarray:
    """Base indicators ``[N, 4 * L]`` (float32), position-major (position i: columns 4i..4i+3 = A, C, G, T);
    an N sets none."""
    tokens = np.asarray(tokens)
    return (tokens[:, :, None] == np.arange(4, dtype=tokens.dtype)).reshape(len(tokens), -1).astype(np.float32)


def baseline_features(tokens: np.ndarray, features: str, ks: list[int]) -> np.ndarray:
    """The features of schema key ``baselines.<name>.features`` ("kmer" or "onehot") of tokens ``[N, L]``."""
    return onehot_features(tokens) if features == "onehot" else kmer_features(tokens, ks)


def saved_features(params: dict) -> str:
    """The feature kind of a saved baseline (model.npz written before one-hot baselines existed: "kmer")."""
    return str(params["features"]) if "features" in params else "kmer"


def build_predictor(params: dict) -> tuple[StandardScaler, LogisticRegression]:
    """Rebuild the fitted scaler + classifier from the arrays saved in ``model.npz``."""
    scaler = StandardScaler()
    scaler.mean_, scaler.scale_ = params["mean"], params["scale"]
    scaler.var_ = params["scale"] ** 2
    scaler.n_features_in_ = len(params["mean"])
    classifier = LogisticRegression()
    classifier.coef_, classifier.intercept_ = params["coef"], params["intercept"]
    classifier.classes_ = np.arange(params["n_classes"])
    classifier.n_features_in_ = params["coef"].shape[1]
    return scaler, classifier


def baseline_proba(params: dict, tokens: np.ndarray) -> np.ndarray:
    """Class probabilities ``[N, C]`` (float64: a confident window's small probability is kept, not rounded to 0)
    of the saved baseline on tokens ``[N, L]``."""
    scaler, classifier = build_predictor(params)
    features = baseline_features(tokens, saved_features(params), list(params["ks"]))
    return classifier.predict_proba(scaler.transform(features.astype(np.float64)))
