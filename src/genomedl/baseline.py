"""Baseline stage: logistic regression (scikit-learn) on k-mer frequencies (position-free) or on the one-hot
bases of the window (position-specific, a PWM-like classic).

The fitted model is stored as plain arrays (``model.npz``): no pickle, so loading cannot run code.
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from .atomic import atomic_path
from .config import stage_settings
from .data import load_dataset
from .provenance import git_commit, model_record, utc_now, versions
from .tables import write_json


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


def save_arrays(path: Path, **arrays: np.ndarray) -> None:
    """An ``.npz`` that ``np.load`` reads, byte-identical for identical arrays (fixed zip timestamps)."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        for name, array in arrays.items():
            with archive.open(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), "w") as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


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
    """Class probabilities ``[N, C]`` of the saved baseline on tokens ``[N, L]``."""
    scaler, classifier = build_predictor(params)
    features = baseline_features(tokens, saved_features(params), list(params["ks"]))
    return classifier.predict_proba(scaler.transform(features))


def run_baseline(
    tokens: Path, meta: Path, labels: Path, split: Path, out_dir: Path, name: str, settings: dict, seed: int, log=print
) -> dict:
    """Fit on the train split (class-balanced weights); save arrays and run.json in ``out_dir``.

    ``settings``: schema section ``baseline`` (entry ``baselines.<name>``)."""
    settings = stage_settings("baseline", settings, f"baselines.{name}")
    started, t0 = utc_now(), time.time()
    data = load_dataset(tokens, meta, labels, split)
    ks, kind = list(settings["k"]), settings["features"]
    train = data.parts["train"]
    features = baseline_features(train.tokens, kind, ks)
    scaler = StandardScaler().fit(features)
    classifier = LogisticRegression(
        C=float(settings["C"]), class_weight="balanced", max_iter=2000, random_state=seed
    ).fit(scaler.transform(features), train.labels)
    coef, intercept = classifier.coef_, classifier.intercept_
    save_arrays(
        out_dir / "model.npz",
        mean=scaler.mean_,
        scale=scaler.scale_,
        coef=coef,
        intercept=intercept,
        ks=np.array(ks),
        features=np.array(kind),
        n_classes=np.array(len(data.classes)),
        classes=np.array(data.classes),
    )
    run = {
        **model_record(name, f"{kind}_logreg", settings, seed, data.classes, data.length, train.labels),
        "imbalance": "class_weighted_loss",
        "train_seconds": round(time.time() - t0, 2),
        "versions": versions(),
        "git_commit": git_commit(),
        "started_at": started,
        "finished_at": utc_now(),
    }
    write_json(run, out_dir / "run.json")
    described = "one-hot bases" if kind == "onehot" else f"k-mer frequencies, k={ks}"
    log(f"baseline: {name} fitted on {len(train.labels)} windows ({described})")
    return run
