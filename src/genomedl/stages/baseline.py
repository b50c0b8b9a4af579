"""Baseline stage: logistic regression (scikit-learn) on k-mer frequencies (position-free) or on the one-hot
bases of the window (position-specific, a PWM-like classic).

The fitted model is stored as plain arrays (``model.npz``): no pickle, so loading cannot run code.
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from genomedl.atomic import atomic_path
from genomedl.config import stage_settings
from genomedl.data.datasets import load_dataset
from genomedl.data.files import DatasetFiles
from genomedl.models.baselines import baseline_features
from genomedl.provenance import git_commit, model_record, utc_now, versions
from genomedl.tables import write_json


def save_arrays(path: Path, **arrays: np.ndarray) -> None:
    """An ``.npz`` that ``np.load`` reads, byte-identical for identical arrays (fixed zip timestamps)."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        for name, array in arrays.items():
            with archive.open(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), "w") as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def run_baseline(dataset: DatasetFiles, out_dir: Path, name: str, settings: dict, seed: int, log=print) -> dict:
    """Fit on the train split (class-balanced weights); save arrays and run.json in ``out_dir``.

    ``settings``: schema section ``baseline`` (entry ``baselines.<name>``)."""
    settings = stage_settings("baseline", settings, f"baselines.{name}")
    started, t0 = utc_now(), time.time()
    data = load_dataset(dataset)
    ks, kind = list(settings["k"]), settings["features"]
    train = data.parts["train"]
    features = baseline_features(train.tokens, kind, ks)
    scaler = StandardScaler().fit(features)
    classifier = LogisticRegression(
        C=float(settings["C"]), class_weight="balanced", max_iter=2000, random_state=seed
    ).fit(scaler.transform(features), train.labels)
    coef, intercept = classifier.coef_, classifier.intercept_
    save_arrays(
        out_dir / "model.npz",
        mean=scaler.mean_,
        scale=scaler.scale_,
        coef=coef,
        intercept=intercept,
        ks=np.array(ks),
        features=np.array(kind),
        n_classes=np.array(len(data.classes)),
        classes=np.array(data.classes),
    )
    run = {
        **model_record(name, f"{kind}_logreg", settings, seed, data.classes, data.length, train.labels),
        "imbalance": "class_weighted_loss",
        "train_seconds": round(time.time() - t0, 2),
        "versions": versions(),
        "git_commit": git_commit(),
        "started_at": started,
        "finished_at": utc_now(),
    }
    write_json(run, out_dir / "run.json")
    described = "one-hot bases" if kind == "onehot" else f"k-mer frequencies, k={ks}"
    log(f"baseline: {name} fitted on {len(train.labels)} windows ({described})")
    return run
