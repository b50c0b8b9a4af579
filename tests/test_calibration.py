"""Temperature scaling: fitted on the validation split after training, applied wherever probabilities leave genomedl."""

from __future__ import annotations

import numpy as np
import pytest

from genomedl.scoring import load_scorer
from genomedl.stages.baseline import run_baseline
from genomedl.stages.evaluate import run_evaluate
from genomedl.stats.calibration import apply_temperature, calibration_scores, fit_temperature, temperature_record
from genomedl.tables import read_json, read_tsv
from helpers import files, train, write_synthetic

QUIET = dict(log=lambda *a: None)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("planted", [0.5, 2.5])
def test_a_planted_temperature_is_recovered(planted):
    """Synthetic: labels drawn from softmax(z) over 3 classes; the model reports softmax(z / planted)."""
    rng = np.random.default_rng(0)
    z = rng.normal(scale=2.0, size=(20000, 3))
    y = np.array([rng.choice(3, p=p) for p in softmax(z)])
    reported = softmax(z / planted)
    fitted = fit_temperature(y, reported)
    assert fitted == pytest.approx(1 / planted, rel=0.05)
    calibrated = apply_temperature(reported, fitted)
    assert np.allclose(calibrated, softmax(z), atol=0.02)
    assert (calibrated.argmax(1) == reported.argmax(1)).all()  # the ranking of the classes is kept
    before, after = calibration_scores(y, reported), calibration_scores(y, calibrated)
    assert after["ece"] < before["ece"] / 3 and after["log_loss"] < before["log_loss"]


def test_without_two_classes_nothing_is_rescaled():
    probs = np.array([[0.9, 0.1], [0.8, 0.2]])
    assert fit_temperature(np.array([0, 0]), probs) == 1.0
    assert temperature_record(np.array([], int), np.zeros((0, 2)))["temperature"] == 1.0


def test_a_smoothed_model_is_sharpened_and_scored_calibrated(tmp_path):
    """Planted motif (synthetic); label smoothing 0.3 makes the cnn underconfident: its validation temperature is
    below 1, the validation log loss falls, and evaluate scores the rescaled probabilities (accuracy unchanged)."""
    paths = write_synthetic(tmp_path / "data", n=600, balanced=True)
    settings = {"arch": "cnn", "filters": [16], "kernels": [7], "pools": [2], "hidden": [16], "epochs": 6}
    run = train(paths, tmp_path / "m", {**settings, "label_smoothing": 0.3, "lr": 0.01})
    scaling = run["calibration"]
    assert scaling["fitted_on"] == "val" and scaling["windows"] == 120
    assert scaling["temperature"] < 0.9 and scaling["after"]["log_loss"] < scaling["before"]["log_loss"], scaling
    result = run_evaluate(tmp_path / "m", files(paths), tmp_path / "e", {"bootstrap": 0}, 0, **QUIET)
    assert result["temperature"]["value"] == scaling["temperature"]
    before, after = result["temperature"]["test_before"], result["temperature"]["test_after"]
    assert after["log_loss"] < before["log_loss"] and after["ece"] < before["ece"], (before, after)
    scorer = load_scorer(tmp_path / "m", "cpu", "trained")
    test = read_tsv(tmp_path / "e" / "predictions.tsv")
    tokens = np.load(paths["tokens"])[[int(i.removeprefix("w")) for i in test["id"]]]
    raw = scorer.raw_proba(tokens, 64)
    written = test[["p_neg", "p_pos"]].to_numpy()
    assert np.allclose(written, apply_temperature(raw, scaling["temperature"]), atol=1e-5)
    assert not np.allclose(written, raw, atol=1e-3)
    assert (written.argmax(1) == raw.argmax(1)).all()


def test_the_baselines_are_calibrated_too(tmp_path):
    paths = write_synthetic(tmp_path / "data", n=600, balanced=True)
    run = run_baseline(files(paths), tmp_path / "b", "kmer", {"C": 100.0}, 0, **QUIET)
    scaling = run["calibration"]
    assert scaling["method"] == "temperature" and scaling["after"]["log_loss"] <= scaling["before"]["log_loss"]
    assert read_json(tmp_path / "b" / "run.json")["calibration"] == scaling
    assert load_scorer(tmp_path / "b", "cpu", "trained").temperature == scaling["temperature"]


def test_a_small_perfectly_separated_validation_split_keeps_the_temperature_near_one():
    """15 windows the model separates perfectly (a promoter fold's validation split): the log loss alone would
    sharpen without end (T -> 0); the prior on log T keeps T within a factor of about 3 of 1."""
    y = np.arange(15) % 2
    probs = np.where(y[:, None] == np.arange(2), 0.8, 0.2)
    assert 0.3 < fit_temperature(y, probs) < 1.0
