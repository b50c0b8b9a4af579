"""Evaluate stage: metrics agree with scikit-learn and behave at the extremes."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from genomedl.evaluate import compute_metrics, run_evaluate
from genomedl.tables import read_json, read_tsv
from genomedl.train import run_train


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
    run_train(d["tokens"], d["meta"], d["labels"], d["split"], tmp_path / "m", "cnn",
              {"arch": "cnn", "epochs": 1, "filters": [8], "kernels": [5], "pools": [4], "hidden": 8}, 0,
              log=lambda *a: None)
    result = run_evaluate(tmp_path / "m", d["tokens"], d["meta"], d["labels"], d["split"], tmp_path / "e",
                          log=lambda *a: None)
    predictions = read_tsv(tmp_path / "e" / "predictions.tsv")
    split = read_tsv(d["split"])
    assert predictions["id"].tolist() == split.loc[split["split"] == "test", "id"].tolist()
    assert np.allclose(predictions[["p_neg", "p_pos"]].sum(axis=1), 1, atol=1e-5)
    y = (predictions["label"] == "pos").to_numpy()
    assert np.isclose(result["auroc"], skm.roc_auc_score(y, predictions["p_pos"]), atol=1e-4)
    assert read_json(tmp_path / "e" / "metrics.json")["n"] == len(predictions)
