"""Classic position-specific methods on StatLog DNA (a benchmark, not a test): scikit-learn models on the one-hot
bases of each 60 bp window, trained on the 1,700 train rows the cnn trains on (validation left out, as for the
cnn) and on all 2,000 standard training rows, scored on the 1,186 standard test rows.

    .venv/bin/python benchmarks/quality/classic.py

Needs the harness's StatLog CSV (run ``benchmarks/quality/run.py`` once). Prints a markdown table.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))

from public_sets import CACHE  # noqa: E402

from genomedl.encoding.tokens import bytes_to_tokens  # noqa: E402
from genomedl.models.baselines import onehot_features  # noqa: E402

MODELS = {
    "logistic regression, C 0.1": lambda: LogisticRegression(C=0.1, max_iter=3000),
    "logistic regression, C 1": lambda: LogisticRegression(C=1.0, max_iter=3000),
    "random forest, 500 trees": lambda: RandomForestClassifier(500, random_state=0, n_jobs=1),
    "gradient boosting (HistGradientBoosting)": lambda: HistGradientBoostingClassifier(random_state=0),
}


def main() -> None:
    table = pd.read_csv(CACHE / "work" / "data" / "statlog_dna.csv")
    x = onehot_features(np.stack([bytes_to_tokens(s.encode()) for s in table["sequence"]]))
    y, split = table["label"].to_numpy(), table["split"].to_numpy()
    test = split == "test"
    rows = ["| model | trained on | test accuracy | seconds |", "|---|---|---|---|"]
    for name, make in MODELS.items():
        for rows_name, train in (("1,700 train rows", split == "train"), ("2,000 train + val rows", ~test)):
            started = time.perf_counter()
            model = make().fit(x[train], y[train])
            accuracy = (model.predict(x[test]) == y[test]).mean()
            rows.append(f"| {name} | {rows_name} | {accuracy:.4f} | {time.perf_counter() - started:.1f} |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
