"""Baseline stage: k-mer features and the pickle-free logistic regression."""

from __future__ import annotations

import itertools

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from genomedl.baseline import baseline_proba, kmer_counts, kmer_features, run_baseline
from genomedl.data import load_dataset


def naive_kmer_counts(row: np.ndarray, k: int) -> np.ndarray:
    """Reference implementation: count each k-mer by walking the sequence."""
    index = {km: i for i, km in enumerate(itertools.product(range(4), repeat=k))}
    counts = np.zeros(4**k)
    kmers = [tuple(row[i : i + k]) for i in range(len(row) - k + 1)]
    valid = [km for km in kmers if max(km) < 4]
    for km in valid:
        counts[index[km]] += 1
    return counts / max(len(valid), 1)


def test_kmer_counts_match_reference():
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 5, size=(7, 40), dtype=np.uint8)
    for k in (1, 2, 3):
        fast = kmer_counts(tokens, k)
        for row, got in zip(tokens, fast):
            assert np.allclose(got, naive_kmer_counts(row, k))


def test_saved_arrays_reproduce_sklearn(tmp_path, synthetic_dataset):
    run = run_baseline(
        synthetic_dataset["tokens"],
        synthetic_dataset["meta"],
        synthetic_dataset["labels"],
        synthetic_dataset["split"],
        tmp_path / "b",
        "kmer",
        {"k": [1, 2, 3], "C": 0.5},
        0,
        log=lambda *a: None,
    )
    data = load_dataset(
        synthetic_dataset["tokens"], synthetic_dataset["meta"], synthetic_dataset["labels"], synthetic_dataset["split"]
    )
    with np.load(tmp_path / "b" / "model.npz", allow_pickle=False) as saved:
        params = {k: saved[k] for k in saved.files}
    features = kmer_features(data.parts["train"].tokens, [1, 2, 3])
    scaler = StandardScaler().fit(features)
    reference = LogisticRegression(C=0.5, class_weight="balanced", max_iter=2000, random_state=0).fit(
        scaler.transform(features), data.parts["train"].labels
    )
    test = data.parts["test"].tokens
    expected = reference.predict_proba(scaler.transform(kmer_features(test, [1, 2, 3])))
    assert np.allclose(baseline_proba(params, test), expected)
    assert run["classes"] == ["neg", "pos"]


def test_refit_gives_byte_identical_model(tmp_path, synthetic_dataset):
    d = synthetic_dataset
    for out in ("a", "b"):
        run_baseline(
            d["tokens"],
            d["meta"],
            d["labels"],
            d["split"],
            tmp_path / out,
            "kmer",
            {"k": [1, 2]},
            0,
            log=lambda *a: None,
        )
    assert (tmp_path / "a" / "model.npz").read_bytes() == (tmp_path / "b" / "model.npz").read_bytes()
