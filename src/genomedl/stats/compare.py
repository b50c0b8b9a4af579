"""One leaderboard across architectures and baselines, with the paired bootstrap test against the best."""

from __future__ import annotations

import numpy as np
import pandas as pd

from genomedl.choices import BASELINE_FEATURES
from genomedl.stats.bootstrap import bootstrap_distribution, paired_test

LEADERBOARD_METRICS = ["auroc", "auprc", "mcc", "f1", "balanced_accuracy", "accuracy", "brier", "ece"]
BASELINE_ARCHS = {f"{features}_logreg" for features in BASELINE_FEATURES}  # run.json arch of the baselines


CHANCE = {"auroc": 0.5, "mcc": 0.0}  # the ranking metrics' value for a model that guesses


def at_chance(row: dict, metric: str) -> bool:
    """Whether a leaderboard row's ``metric`` is not above chance: its 95 % interval (else its value) reaches
    the value of a guess (AUROC 0.5, MCC 0). A missing value is not flagged."""
    if row.get(metric) is None:
        return False
    low = (row["ci"].get(metric) or [row[metric]])[0]
    return low <= CHANCE[metric]


def rank_metric(evals: dict[str, dict]) -> str:
    """AUROC when every model has one, else MCC (defined even when a class is missing from the test split)."""
    return "auroc" if evals and all(e.get("auroc") is not None for e in evals.values()) else "mcc"


def leaderboard(
    evals: dict[str, dict], predictions: dict[str, pd.DataFrame] | None = None, n_boot: int = 1000, seed: int = 0
) -> list[dict]:
    """Rows best first by :func:`rank_metric`: metrics with intervals, ``chance_level`` (:func:`at_chance`), and
    for every model after the first the paired bootstrap difference to the best (``delta``, ``delta_ci``, ``p``)
    on the ranking metric.

    ``predictions``: the evaluate stage's ``predictions.tsv`` per model (same test windows); without
    them, the paired test is left out.
    """
    metric = rank_metric(evals)
    rows = [
        {
            "model": name,
            "arch": e["arch"],
            **{m: e.get(m) for m in LEADERBOARD_METRICS},
            "ci": {m: (e.get("ci") or {}).get(m) for m in LEADERBOARD_METRICS},
        }
        for name, e in evals.items()
    ]
    rows.sort(key=lambda r: (r[metric] is None, -(r[metric] or 0), r["model"]))
    for row in rows:
        row["rank_metric"] = metric
        row["chance_level"] = at_chance(row, metric)
    if not predictions or len(rows) < 2 or any(r["model"] not in predictions for r in rows):
        return rows
    dists = metric_distributions([r["model"] for r in rows], evals, predictions, metric, n_boot, seed)
    for row in rows[1:]:
        row.update(
            delta=None if row[metric] is None or rows[0][metric] is None else round(rows[0][metric] - row[metric], 6),
            **paired_test(dists[rows[0]["model"]], dists[row["model"]]),
        )
    return rows


def metric_distributions(
    names: list[str], evals: dict[str, dict], predictions: dict[str, pd.DataFrame], metric: str, n_boot: int, seed: int
) -> dict[str, np.ndarray]:
    """``metric`` on the same ``n_boot`` bootstrap resamples of the test windows ``[n_boot]``, per model."""
    first = predictions[names[0]]
    classes = evals[names[0]]["classes"]
    y = first["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    dists = {}
    for name in names:
        table = predictions[name].set_index("id").loc[first["id"]]  # same window order for every model
        probs = table[[f"p_{c}" for c in classes]].to_numpy(float)
        dists[name] = bootstrap_distribution(y, probs, n_boot, seed)[metric]
    return dists


def versus_baseline(
    rows: list[dict], evals: dict[str, dict], predictions: dict[str, pd.DataFrame] | None, n_boot: int, seed: int
) -> dict | None:
    """The best neural model against the best baseline (k-mer or one-hot) on the ranking metric of ``rows``
    (:func:`leaderboard`): ``delta`` = neural minus baseline, its paired bootstrap interval and p, and
    ``verdict``: ``better`` or ``worse`` when the interval excludes 0, else ``level``. None without both kinds
    of model or without predictions."""
    neural = next((r for r in rows if r["arch"] not in BASELINE_ARCHS), None)
    baseline = next((r for r in rows if r["arch"] in BASELINE_ARCHS), None)
    if neural is None or baseline is None or not predictions or n_boot < 1:
        return None
    metric, names = rows[0]["rank_metric"], [neural["model"], baseline["model"]]
    if neural[metric] is None or baseline[metric] is None or any(n not in predictions for n in names):
        return None
    dists = metric_distributions(names, evals, predictions, metric, n_boot, seed)
    test = paired_test(dists[names[0]], dists[names[1]])
    low, high = test["delta_ci"] or (0.0, 0.0)
    verdict = "better" if low > 0 else "worse" if high < 0 else "level"
    return {
        "metric": metric,
        "model": names[0],
        "baseline": names[1],
        "baseline_features": baseline["arch"].removesuffix("_logreg"),  # kmer or onehot
        "delta": round(neural[metric] - baseline[metric], 6),
        **test,
        "verdict": verdict,
        "model_at_chance": neural["chance_level"],
    }


def leaderboard_table(rows: list[dict]) -> pd.DataFrame:
    """Flat table of :func:`leaderboard` rows (value, interval ends; difference to the best and p)."""
    flat = []
    for rank, r in enumerate(rows, 1):
        item = {"rank": rank, "model": r["model"], "arch": r["arch"], "chance_level": r["chance_level"]}
        for m in LEADERBOARD_METRICS:
            ci = r["ci"].get(m) or [np.nan, np.nan]
            item.update({m: r[m], f"{m}_ci_low": ci[0], f"{m}_ci_high": ci[1]})
        ci = r.get("delta_ci") or [np.nan, np.nan]
        item.update(
            {
                "ranked_by": r["rank_metric"],
                "delta_to_best": r.get("delta"),
                "delta_ci_low": ci[0],
                "delta_ci_high": ci[1],
                "paired_p": r.get("p"),
            }
        )
        flat.append(item)
    return pd.DataFrame(flat)
