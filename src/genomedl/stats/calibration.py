"""Temperature scaling: one number T, fitted on the validation split after training, that divides a classifier's
log-probabilities so that its confidence matches its accuracy (Guo et al. 2017). ``softmax(log p / T)`` keeps
every window's ranking of the classes (accuracy is unchanged); T > 1 softens an overconfident model, T < 1
sharpens an underconfident one (label smoothing makes models underconfident)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

from genomedl.stats.metrics import brier, ece

LOG_T_BOUNDS = (np.log(0.01), np.log(100.0))  # the temperatures searched
FLOOR = 1e-12  # probabilities are clipped here before the log


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Class probabilities ``[N, C]`` rescaled: ``softmax(log(probs) / temperature)``, float64."""
    if temperature == 1.0:
        return probs
    scaled = np.log(np.clip(probs, FLOOR, 1.0)) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    out = np.exp(scaled)
    return out / out.sum(axis=1, keepdims=True)


def log_loss(y: np.ndarray, probs: np.ndarray) -> float:
    """Mean negative log-likelihood (nats per window) of labels ``[N]`` under probabilities ``[N, C]``."""
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], FLOOR, 1.0))))


def fit_temperature(y: np.ndarray, probs: np.ndarray) -> float:
    """The most probable temperature in [0.01, 100] given labels ``[N]`` and ``probs`` ``[N, C]``: the log loss plus
    a standard normal prior on log T, ``(log T)^2 / 2N`` per window, so that a small validation split the model
    separates perfectly (where the log loss alone falls forever as T -> 0) keeps T near 1; on thousands of windows
    the prior is negligible. 1.0 without windows of two classes."""
    if len(np.unique(y)) < 2:
        return 1.0
    prior = 1.0 / (2 * len(y))
    found = minimize_scalar(
        lambda log_t: log_loss(y, apply_temperature(probs, float(np.exp(log_t)))) + prior * log_t**2,
        bounds=LOG_T_BOUNDS,
        method="bounded",
        options={"xatol": 1e-4},
    )
    return round(float(np.exp(found.x)), 5)


def calibration_scores(y: np.ndarray, probs: np.ndarray) -> dict:
    """Log loss, Brier score and top-label ECE (15 bins) of ``probs`` ``[N, C]`` on labels ``[N]``."""
    one = np.ones((1, len(y)))
    return {
        "log_loss": round(log_loss(y, probs), 6),
        "brier": round(float(brier(y, probs, one)[0]), 6),
        "ece": round(float(ece(y, probs, one)[0]), 6),
    }


def temperature_record(y: np.ndarray, probs: np.ndarray) -> dict:
    """The run.json entry ``calibration`` of a classifier whose validation probabilities are ``probs`` ``[N, C]``:
    the fitted temperature and the validation scores before and after it (none without validation windows)."""
    if len(y) == 0:
        return {"method": "none", "temperature": 1.0, "fitted_on": "val", "windows": 0}
    temperature = fit_temperature(y, probs)
    return {
        "method": "temperature",
        "temperature": temperature,
        "fitted_on": "val",
        "windows": int(len(y)),
        "before": calibration_scores(y, probs),
        "after": calibration_scores(y, apply_temperature(probs, temperature)),
    }
