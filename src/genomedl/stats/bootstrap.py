"""Bootstrap confidence intervals and the paired bootstrap test between two models.

Resamples depend only on the number of test samples and the seed, so every model of a dataset is
scored on the same resamples: its intervals and the paired test between models agree.
"""

from __future__ import annotations

import numpy as np

from genomedl.stats.metrics import SCALARS, weighted_metrics

CHUNK = 250  # resamples scored at once (bounds memory at CHUNK x N floats per array)


def _draw(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    return rng.multinomial(n, np.full(n, 1.0 / n), size=size).astype(float)


def resample_weights(n: int, n_boot: int, seed: int) -> np.ndarray:
    """Draw counts ``[n_boot, n]``: how often each of ``n`` samples appears in each resample."""
    return _draw(np.random.default_rng(seed), n, n_boot)


def bootstrap_distribution(
    y: np.ndarray, probs: np.ndarray, n_boot: int, seed: int, n_bins: int = 15
) -> dict[str, np.ndarray]:
    """Scalar metrics ``[n_boot]`` on each resample of the test set (NaN where a metric is undefined).

    The resamples of :func:`resample_weights`, drawn CHUNK at a time: memory CHUNK x N, not n_boot x N."""
    rng = np.random.default_rng(seed)
    parts = [
        weighted_metrics(y, probs, _draw(rng, len(y), min(CHUNK, n_boot - i)), n_bins) for i in range(0, n_boot, CHUNK)
    ]
    return {k: np.concatenate([p[k] for p in parts]) for k in SCALARS}


def interval(values: np.ndarray, level: float = 0.95) -> list[float] | None:
    """Percentile interval of the finite values; None when fewer than half the resamples are finite."""
    finite = values[np.isfinite(values)]
    if len(finite) < len(values) / 2:
        return None
    tail = (1 - level) / 2 * 100
    return [round(float(v), 6) for v in np.percentile(finite, [tail, 100 - tail])]


def paired_test(first: np.ndarray, second: np.ndarray, level: float = 0.95) -> dict:
    """Paired bootstrap test of ``first - second`` (metric values on the same resamples ``[B]``).

    p: two-sided, twice the smaller tail share of resamples on either side of zero, with the +1
    correction, so it is never 0.
    """
    delta = first - second
    delta = delta[np.isfinite(delta)]
    if len(delta) == 0:
        return {"delta_ci": None, "p": None}
    tail = min((delta <= 0).sum(), (delta >= 0).sum())
    p = min(1.0, 2 * (tail + 1) / (len(delta) + 1))
    return {"delta_ci": interval(delta, level), "p": round(p, 6)}
