"""Baseline stage: k-mer and one-hot features and the pickle-free logistic regression."""

from __future__ import annotations

import itertools

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from genomedl.data.datasets import load_dataset
from genomedl.models.baselines import baseline_proba, kmer_counts, kmer_features, onehot_features
from genomedl.stages.baseline import C_GRID, fitted_classifier, run_baseline
from genomedl.training.engine import macro_auroc
from helpers import MOTIF, files, write_synthetic


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
        files(synthetic_dataset), tmp_path / "b", "kmer", {"k": [1, 2, 3], "C": 0.5}, 0, log=lambda *a: None
    )
    data = load_dataset(files(synthetic_dataset))
    with np.load(tmp_path / "b" / "model.npz", allow_pickle=False) as saved:
        params = {k: saved[k] for k in saved.files}
    features = kmer_features(data.parts["train"].tokens, [1, 2, 3])
    scaler = StandardScaler().fit(features)
    reference = LogisticRegression(C=0.5, class_weight="balanced", max_iter=2000, random_state=0).fit(
        scaler.transform(features), data.parts["train"].labels
    )
    test = data.parts["test"].tokens
    expected = reference.predict_proba(scaler.transform(kmer_features(test, [1, 2, 3]).astype(np.float64)))
    assert np.allclose(baseline_proba(params, test), expected)
    assert run["classes"] == ["neg", "pos"]


def test_refit_gives_byte_identical_model(tmp_path, synthetic_dataset):
    d = synthetic_dataset
    for out in ("a", "b"):
        run_baseline(files(d), tmp_path / out, "kmer", {"k": [1, 2]}, 0, log=lambda *a: None)
    assert (tmp_path / "a" / "model.npz").read_bytes() == (tmp_path / "b" / "model.npz").read_bytes()


def test_onehot_features_are_position_major_base_indicators():
    tokens = np.array([[0, 3, 4], [2, 1, 0]], dtype=np.uint8)  # A T N, G C A
    assert onehot_features(tokens).tolist() == [
        [1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0],
        [0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0],
    ]


def test_only_the_onehot_baseline_tells_where_a_motif_sits(tmp_path):
    """Planted signal (synthetic): both classes carry GATTACA once, "pos" at 10 and "neg" at 25, so the k-mer
    frequencies of the two classes are alike and only the position differs."""
    paths = write_synthetic(tmp_path / "data", n=400, length=40, motif_at=10, balanced=True)
    tokens = np.load(paths["tokens"])
    tokens[0::2, 25 : 25 + len(MOTIF)] = MOTIF  # neg rows (even ids); pos rows (odd) have it at 10 already
    np.save(paths["tokens"], tokens)
    test = load_dataset(files(paths)).parts["test"]
    auroc = {}
    for features in ("kmer", "onehot"):
        out = tmp_path / features
        run = run_baseline(files(paths), out, features, {"features": features}, 0, log=lambda *_: None)
        assert run["arch"] == f"{features}_logreg"
        with np.load(out / "model.npz") as saved:
            auroc[features] = macro_auroc(test.labels, baseline_proba(dict(saved), test.tokens))
    assert auroc["onehot"] > 0.99 and auroc["kmer"] < 0.75, auroc


def test_c_auto_is_chosen_on_the_validation_split():
    """Planted signal (synthetic): one informative feature among 300 noise features and 80 training rows, where
    weak regularisation overfits the noise; auto picks the C with the best validation AUROC."""
    rng = np.random.default_rng(0)

    def rows(n):
        y = np.arange(n) % 2
        x = rng.normal(size=(n, 301))
        x[:, 0] += 1.5 * y
        return x, y

    (x_train, y_train), (x_val, y_val) = rows(80), rows(2000)
    classifier, chosen, search = fitted_classifier(x_train, y_train, x_val, y_val, "auto", 0)
    assert [float(c) for c in search] == list(C_GRID)
    assert search[str(chosen)] == max(search.values())
    assert chosen < 1.0 and search[str(chosen)] > search["100.0"] + 0.02, search
    reference = LogisticRegression(C=chosen, class_weight="balanced", max_iter=2000, random_state=0)
    assert np.allclose(classifier.coef_, reference.fit(x_train, y_train).coef_)
    # a set C is used as set; no validation windows of every class: C 1
    assert fitted_classifier(x_train, y_train, x_val, y_val, 0.5, 0)[1:] == (0.5, {})
    assert fitted_classifier(x_train, y_train, x_val[y_val == 0], y_val[y_val == 0], "auto", 0)[1:] == (1.0, {})


def test_the_baseline_records_the_c_it_chose(tmp_path, synthetic_dataset):
    messages = []
    run = run_baseline(files(synthetic_dataset), tmp_path / "b", "kmer", {"k": [1, 2]}, 0, log=messages.append)
    assert run["C"] in C_GRID and run["C_search"][str(run["C"])] == max(run["C_search"].values())
    assert f"C {run['C']:g} (best validation AUROC)" in messages[-1]


def test_a_tie_of_validation_auroc_goes_to_the_lower_validation_log_loss():
    """Planted (synthetic): a validation split every C separates perfectly (AUROC 1 throughout); the strongest
    regularisation leaves the probabilities near 0.5, so the log loss picks a weaker one."""
    rng = np.random.default_rng(1)
    y = np.arange(200) % 2
    x = rng.normal(size=(200, 5)) + 4.0 * y[:, None]
    classifier, chosen, search = fitted_classifier(x[:150], y[:150], x[150:], y[150:], "auto", 0)
    assert set(search.values()) == {1.0}
    assert chosen > 0.001
