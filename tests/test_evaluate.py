"""Evaluate stage: metrics agree with scikit-learn and behave at the extremes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from genomedl.stages.evaluate import run_evaluate
from genomedl.stages.train import run_train
from genomedl.stats.bootstrap import bootstrap_distribution, interval, paired_test, resample_weights
from genomedl.stats.compare import leaderboard, versus_baseline
from genomedl.stats.metrics import weighted_metrics
from genomedl.stats.scores import compute_metrics
from genomedl.tables import read_json, read_tsv
from helpers import files


def test_perfect_and_inverted_predictions():
    y = np.array([0, 0, 1, 1, 1])
    perfect = np.eye(2)[y] * 0.8 + 0.1
    m = compute_metrics(y, perfect, ["a", "b"])
    assert m["auroc"] == 1.0 and m["mcc"] == 1.0 and m["confusion_matrix"] == [[2, 0], [0, 3]]
    inverted = compute_metrics(y, perfect[:, ::-1], ["a", "b"])
    assert inverted["auroc"] == 0.0 and inverted["mcc"] == -1.0


def test_multiclass_matches_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    probs = rng.dirichlet(np.ones(3), 200)
    m = compute_metrics(y, probs, ["x", "y", "z"])
    assert np.isclose(m["auroc"], skm.roc_auc_score(y, probs, multi_class="ovr"))
    assert np.isclose(m["balanced_accuracy"], skm.balanced_accuracy_score(y, probs.argmax(1)))
    assert np.isclose(m["f1"], skm.f1_score(y, probs.argmax(1), average="macro"))
    assert set(m["curves"]) == {"x", "y", "z"}


def test_missing_class_gives_no_auroc():
    m = compute_metrics(np.array([1, 1, 1]), np.array([[0.2, 0.8]] * 3), ["a", "b"])
    assert m["auroc"] is None and m["accuracy"] == 1.0


def test_predictions_file_matches_metrics(tmp_path, synthetic_dataset):
    d = synthetic_dataset
    run_train(
        files(d),
        tmp_path / "m",
        "cnn",
        {"arch": "cnn", "epochs": 3, "filters": [8], "kernels": [5], "pools": [4], "hidden": 8, "gradient_clip": 0}
        | {"ema_epochs": 0},  # 3 epochs: an average over 2 would lag, and near-equal probabilities round to ties
        0,
        log=lambda *a: None,
    )
    result = run_evaluate(tmp_path / "m", files(d), tmp_path / "e", {}, 0, log=lambda *a: None)
    predictions = read_tsv(tmp_path / "e" / "predictions.tsv")
    split = read_tsv(d["split"])
    assert predictions["id"].tolist() == split.loc[split["split"] == "test", "id"].tolist()
    assert np.allclose(predictions[["p_neg", "p_pos"]].sum(axis=1), 1, atol=1e-5)
    y = (predictions["label"] == "pos").to_numpy()
    assert np.isclose(result["auroc"], skm.roc_auc_score(y, predictions["p_pos"]), atol=1e-4)
    assert read_json(tmp_path / "e" / "metrics.json")["n"] == len(predictions)


def _random_case(n_classes, n=240, seed=1):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    probs = rng.dirichlet(np.ones(n_classes), n)
    probs[:, 0] = np.round(probs[:, 0], 1)  # ties in the scores
    return y, probs / probs.sum(1, keepdims=True)


def _sklearn(y, probs):
    pred, binary = probs.argmax(1), probs.shape[1] == 2
    avg = "binary" if binary else "macro"
    onehot = np.eye(probs.shape[1])[y]
    return {
        "accuracy": skm.accuracy_score(y, pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred, average=avg),
        "recall": skm.recall_score(y, pred, average=avg),
        "f1": skm.f1_score(y, pred, average=avg),
        "mcc": skm.matthews_corrcoef(y, pred),
        "auroc": skm.roc_auc_score(y, probs[:, 1]) if binary else skm.roc_auc_score(y, probs, multi_class="ovr"),
        "auprc": skm.average_precision_score(y, probs[:, 1])
        if binary
        else skm.average_precision_score(onehot, probs, average="macro"),
        "brier": skm.brier_score_loss(y, probs[:, 1]) if binary else ((probs - onehot) ** 2).sum(1).mean(),
    }


def test_every_metric_matches_sklearn_binary_and_multiclass():
    for n_classes in (2, 3):
        y, probs = _random_case(n_classes)
        m = compute_metrics(y, probs, [f"c{i}" for i in range(n_classes)])
        for name, expected in _sklearn(y, probs).items():
            assert np.isclose(m[name], expected, atol=1e-6), (n_classes, name)


def test_bootstrap_draws_the_resamples_of_resample_weights_chunk_by_chunk():
    """Synthetic scores: drawn CHUNK resamples at a time (memory CHUNK x N), the distribution is the one of
    resample_weights' resamples."""
    from genomedl.stats.bootstrap import CHUNK

    rng = np.random.default_rng(2)
    y, probs = rng.integers(0, 2, 300), rng.dirichlet([1, 1], 300)
    dist = bootstrap_distribution(y, probs, CHUNK + 7, seed=4)
    whole = weighted_metrics(y, probs, resample_weights(300, CHUNK + 7, seed=4))
    for metric, values in dist.items():
        np.testing.assert_allclose(values, whole[metric], rtol=1e-12)  # the same resamples (BLAS blocks differ)


def test_resample_weights_equal_metrics_of_the_repeated_sample():
    """A bootstrap row of counts must score exactly like the resample written out with repeats."""
    y, probs = _random_case(3, n=120, seed=4)
    w = resample_weights(len(y), 3, seed=9)
    got = weighted_metrics(y, probs, w)
    for b in range(3):
        idx = np.repeat(np.arange(len(y)), w[b].astype(int))
        for name, expected in _sklearn(y[idx], probs[idx]).items():
            assert np.isclose(got[name][b], expected, atol=1e-6), (b, name)


def test_ece_of_overconfident_predictions():
    y = np.array([0] * 6 + [1] * 4)  # 60% correct at confidence 0.9 everywhere
    probs = np.tile([0.9, 0.1], (10, 1))
    assert np.isclose(compute_metrics(y, probs, ["a", "b"])["ece"], 0.3)


def test_intervals_cover_the_estimate_and_paired_test_separates_models():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    good = np.clip(y + rng.normal(0, 0.35, 300), 0, 1)
    bad = np.clip(y + rng.normal(0, 1.5, 300), 0, 1)
    as_probs = lambda s: np.stack([1 - s, s], 1)
    dist_good = bootstrap_distribution(y, as_probs(good), 400, seed=3)
    dist_bad = bootstrap_distribution(y, as_probs(bad), 400, seed=3)
    lo, hi = interval(dist_good["auroc"])
    assert lo < skm.roc_auc_score(y, good) < hi and hi - lo < 0.2
    assert paired_test(dist_good["auroc"], dist_bad["auroc"])["p"] < 0.01
    same = paired_test(dist_good["auroc"], dist_good["auroc"])
    assert same["p"] == 1.0 and same["delta_ci"] == [0.0, 0.0]


def test_leaderboard_ranks_and_tests_against_the_best():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 200)
    evals, predictions = {}, {}
    for name, noise in (("weak", 1.5), ("strong", 0.3)):
        s = np.clip(y + rng.normal(0, noise, 200), 0, 1)
        probs = np.stack([1 - s, s], 1)
        evals[name] = {"arch": "cnn", "classes": ["a", "b"], **compute_metrics(y, probs, ["a", "b"])}
        predictions[name] = pd.DataFrame(
            {
                "id": [f"w{i}" for i in range(200)],
                "label": np.array(["a", "b"])[y],
                "p_a": probs[:, 0],
                "p_b": probs[:, 1],
            }
        )
    predictions["weak"] = predictions["weak"].iloc[::-1]  # row order must not matter
    rows = leaderboard(evals, predictions, n_boot=300, seed=1)
    assert [r["model"] for r in rows] == ["strong", "weak"]
    assert rows[1]["delta"] > 0 and rows[1]["p"] < 0.01 and rows[1]["delta_ci"][0] > 0


def scored(y: np.ndarray, noise: float, arch: str, rng) -> tuple[dict, pd.DataFrame]:
    """Synthetic scores: ``y`` plus Gaussian noise (planted quality), as evaluate writes them."""
    s = np.clip(y + rng.normal(0, noise, len(y)), 0, 1)
    probs = np.stack([1 - s, s], 1)
    table = pd.DataFrame(
        {
            "id": [f"w{i}" for i in range(len(y))],
            "label": np.array(["a", "b"])[y],
            "p_a": probs[:, 0],
            "p_b": probs[:, 1],
        }
    )
    return {"arch": arch, "classes": ["a", "b"], **compute_metrics(y, probs, ["a", "b"])}, table


@pytest.mark.parametrize("neural_noise, verdict", [(0.3, "better"), (2.0, "worse"), (None, "level")])
def test_the_verdict_compares_the_best_neural_model_with_the_baseline(neural_noise, verdict):
    """Synthetic scores with planted quality: the sentence's verdict follows the paired interval."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    evals, predictions = {}, {}
    evals["kmer"], predictions["kmer"] = scored(y, 0.8, "kmer_logreg", rng)
    evals["weak_cnn"], predictions["weak_cnn"] = scored(y, 3.0, "cnn", rng)
    if neural_noise is None:  # the same scores as the baseline
        evals["cnn"], predictions["cnn"] = {**evals["kmer"], "arch": "cnn"}, predictions["kmer"]
    else:
        evals["cnn"], predictions["cnn"] = scored(y, neural_noise, "cnn", rng)
    rows = leaderboard(evals, predictions, n_boot=300, seed=1)
    result = versus_baseline(rows, evals, predictions, n_boot=300, seed=1)
    assert result["model"] == "cnn" and result["baseline"] == "kmer" and result["verdict"] == verdict
    assert result["delta"] == pytest.approx(evals["cnn"]["auroc"] - evals["kmer"]["auroc"], abs=1e-6)
    low, high = result["delta_ci"]
    assert low <= result["delta"] <= high
    assert versus_baseline([r for r in rows if r["model"] != "kmer"], evals, predictions, 300, 1) is None


def test_the_verdict_takes_the_strongest_baseline_of_either_kind():
    """A one-hot baseline that beats the k-mer one is what the best neural model is measured against."""
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 300)
    evals, predictions = {}, {}
    for name, noise, arch in (("kmer", 1.5, "kmer_logreg"), ("onehot", 0.3, "onehot_logreg"), ("cnn", 0.6, "cnn")):
        evals[name], predictions[name] = scored(y, noise, arch, rng)
    rows = leaderboard(evals, predictions, n_boot=300, seed=1)
    result = versus_baseline(rows, evals, predictions, n_boot=300, seed=1)
    assert (result["model"], result["baseline"], result["verdict"]) == ("cnn", "onehot", "worse")
    assert result["baseline_features"] == "onehot"


def test_a_forward_strand_model_is_scored_as_trained(tmp_path):
    """rc_augment false: the model learnt one strand (oriented windows such as splice sites), so evaluation scores
    the forward strand only; rc_augment true: both strands averaged. Untrained tiny CNNs with scaled weights."""
    from genomedl.scoring import model_proba, trained_strands
    from helpers import model_probs, save_tiny_cnn, tokens_of

    rng = np.random.default_rng(5)
    windows = ["".join(rng.choice(list("ACGT"), 60)) for _ in range(40)]
    for rc_augment, strands in ((False, "forward"), (True, "both")):
        folder = save_tiny_cnn(tmp_path / str(rc_augment), rc_augment=rc_augment)
        assert trained_strands(folder) == strands
        expected = model_probs(folder, windows, both_strands=rc_augment)
        assert np.allclose(model_proba(folder, tokens_of(windows)), expected, atol=1e-6)
    assert np.abs(model_probs(folder, windows, both_strands=False) - expected).max() > 0.01  # the choice matters


def test_a_model_is_scored_where_pysam_is_missing(tmp_path):
    """GPU images often lack pysam: evaluating a model must not need it (None in sys.modules makes every
    `import pysam` raise there). The probabilities match those of this process."""
    from genomedl.scoring import model_proba
    from helpers import save_tiny_cnn, tokens_of

    folder = save_tiny_cnn(tmp_path / "model")
    rng = np.random.default_rng(3)
    np.save(tmp_path / "tokens.npy", tokens_of(["".join(rng.choice(list("ACGT"), 60)) for _ in range(16)]))
    script = (
        "import sys; sys.modules['pysam'] = None; import numpy as np; "
        "from genomedl.scoring import model_proba; "
        f"np.save(r'{tmp_path / 'probs.npy'}', model_proba(r'{folder}', np.load(r'{tmp_path / 'tokens.npy'}')))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    expected = model_proba(folder, np.load(tmp_path / "tokens.npy"))
    assert np.allclose(np.load(tmp_path / "probs.npy"), expected, atol=1e-6)
