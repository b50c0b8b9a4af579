"""What test AUROC a model needs on the 106 promoter rows to beat the k-mer baseline with p < 0.05 (a benchmark,
not a test): the harness's paired bootstrap (1000 resamples, seeds 42 and 1) against the baseline's pooled
10-fold predictions, for the most favourable kind of rival: the baseline's own scores with its worst mistakes
corrected one at a time (the promoter it ranks lowest moved above every non-promoter, then the next), so the two
agree everywhere else and the paired test is as sharp as it can be. Stops at the first rival with p < 0.05.

    .venv/bin/python benchmarks/quality/power.py

Needs the harness's baseline predictions (run ``benchmarks/quality/run.py`` once). Prints a markdown table.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from public_sets import CACHE  # noqa: E402

from genomedl.stats.bootstrap import bootstrap_distribution, paired_test  # noqa: E402
from genomedl.tables import read_tsv  # noqa: E402
from genomedl.training.engine import macro_auroc  # noqa: E402

RESULTS = CACHE / "work" / "results"
SEEDS = (42, 1)


def pooled_baseline() -> tuple[np.ndarray, np.ndarray]:
    """Labels ``[106]`` (1 = promoter) and the baseline's P(promoter) ``[106]``, the 10 folds' test rows pooled."""
    frames = [read_tsv(RESULTS / f"promoters_fold{i}" / "eval" / "kmer_logreg" / "predictions.tsv") for i in range(10)]
    pooled = pd.concat(frames)
    return (pooled["label"] == "promoter").to_numpy(int), pooled["p_promoter"].to_numpy(float)


def p_values(y: np.ndarray, rival: np.ndarray, baseline: np.ndarray) -> list[float]:
    """Paired bootstrap p of the rival's AUROC against the baseline's, one per seed of SEEDS."""
    two = lambda s: np.c_[1 - s, s]
    return [
        paired_test(
            bootstrap_distribution(y, two(rival), 1000, seed)["auroc"],
            bootstrap_distribution(y, two(baseline), 1000, seed)["auroc"],
        )["p"]
        for seed in SEEDS
    ]


def main() -> None:
    y, baseline = pooled_baseline()
    rival = baseline.copy()
    rows = ["| mistakes corrected | rival AUROC | p (seed 42, seed 1) |", "|---|---|---|"]
    top = baseline.max()
    for corrected in range(int((y == 1).sum()) + 1):
        auroc = float(macro_auroc(y, np.c_[1 - rival, rival]))
        ps = p_values(y, rival, baseline)
        rows.append(f"| {corrected} | {auroc:.4f} | {', '.join(f'{p:.3f}' for p in ps)} |")
        if max(ps) < 0.05 or auroc == 1.0:
            break
        worst = np.flatnonzero(y == 1)[np.argmin(rival[y == 1])]
        rival[worst] = top + 1e-3 * (corrected + 1)  # above every non-promoter, order among promoters kept
    print(f"k-mer baseline AUROC {macro_auroc(y, np.c_[1 - baseline, baseline]):.4f} on {len(y)} rows\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
