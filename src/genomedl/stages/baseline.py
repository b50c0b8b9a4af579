"""Baseline stage: logistic regression (scikit-learn) on k-mer frequencies (position-free) or on the one-hot
bases of the window (position-specific, a PWM-like classic), its regularisation chosen on the validation split.

The fitted model is stored as plain arrays (``model.npz``): no pickle, so loading cannot run code.
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.preprocessing import StandardScaler

from genomedl.atomic import atomic_path
from genomedl.config import stage_settings
from genomedl.data.datasets import load_dataset
from genomedl.data.files import DatasetFiles
from genomedl.models.baselines import baseline_features
from genomedl.provenance import git_commit, model_record, utc_now, versions
from genomedl.stats.calibration import temperature_record
from genomedl.tables import write_json


def save_arrays(path: Path, **arrays: np.ndarray) -> None:
    """An ``.npz`` that ``np.load`` reads, byte-identical for identical arrays (fixed zip timestamps)."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        for name, array in arrays.items():
            with archive.open(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), "w") as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


C_GRID = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)  # what C: auto tries, strongest regularisation first
C_WITHOUT_VALIDATION = 1.0  # auto without validation windows of every class


def logistic_regression(c: float, seed: int) -> LogisticRegression:
    """The baselines' classifier: class-balanced weights, L2 penalty of inverse strength ``c``."""
    return LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=seed)


def validation_scores(classifier: LogisticRegression, x_val: np.ndarray, y_val: np.ndarray) -> tuple[float, float]:
    """(AUROC as evaluate reports it: of the second class when binary, else macro one-vs-rest; log loss) on
    validation."""
    probs = classifier.predict_proba(x_val)
    loss = float(log_loss(y_val, probs, labels=classifier.classes_))
    if probs.shape[1] == 2:
        return float(roc_auc_score(y_val, probs[:, 1])), loss
    return float(roc_auc_score(y_val, probs, multi_class="ovr", labels=classifier.classes_)), loss


def fitted_classifier(
    x_train: np.ndarray, y_train: np.ndarray, x_val, y_val: np.ndarray, c, seed: int
) -> tuple[LogisticRegression, float, dict]:
    """The classifier fitted on ``x_train`` ``[N, F]`` at ``c``, or for "auto" at the value of :data:`C_GRID`
    with the best validation AUROC (on a tie, which a small validation split makes common, the lower validation log
    loss, then the smaller C); returns it, its C and {C: validation AUROC}."""
    if c != "auto":
        return logistic_regression(float(c), seed).fit(x_train, y_train), float(c), {}
    if x_val is None or len(np.unique(y_train)) < 2 or set(np.unique(y_val)) != set(np.unique(y_train)):
        return logistic_regression(C_WITHOUT_VALIDATION, seed).fit(x_train, y_train), C_WITHOUT_VALIDATION, {}
    fits = {value: logistic_regression(value, seed).fit(x_train, y_train) for value in C_GRID}
    scored = {value: validation_scores(fit, x_val, y_val) for value, fit in fits.items()}
    best = max(C_GRID, key=lambda value: (round(scored[value][0], 6), -scored[value][1], -value))
    return fits[best], best, {str(value): round(auroc, 6) for value, (auroc, _) in scored.items()}


def run_baseline(dataset: DatasetFiles, out_dir: Path, name: str, settings: dict, seed: int, log=print) -> dict:
    """Fit on the train split (class-balanced weights; ``C`` as set or chosen on validation: :func:`fitted_classifier`);
    save arrays and run.json in ``out_dir``.

    ``settings``: schema section ``baseline`` (entry ``baselines.<name>``)."""
    settings = stage_settings("baseline", settings, f"baselines.{name}")
    started, t0 = utc_now(), time.time()
    data = load_dataset(dataset)
    ks, kind = list(settings["k"]), settings["features"]
    train, val = data.parts["train"], data.parts["val"]
    features = baseline_features(train.tokens, kind, ks)
    scaler = StandardScaler().fit(features)
    x_train = scaler.transform(features)
    # float64 as baseline_proba scores: the temperature sees a confident window's small probabilities
    x_val = scaler.transform(baseline_features(val.tokens, kind, ks).astype(np.float64)) if len(val.labels) else None
    classifier, chosen_c, search = fitted_classifier(x_train, train.labels, x_val, val.labels, settings["C"], seed)
    val_probs = classifier.predict_proba(x_val) if x_val is not None else np.zeros((0, len(data.classes)))
    calibration = temperature_record(val.labels, val_probs)
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
        "calibration": calibration,  # the temperature fitted on the validation split, scores before/after
        "C": chosen_c,  # as fitted: settings.C, or for auto the value the validation split chose
        "C_search": search,  # validation AUROC per C tried ({} when C is set)
        "train_seconds": round(time.time() - t0, 2),
        "versions": versions(),
        "git_commit": git_commit(),
        "started_at": started,
        "finished_at": utc_now(),
    }
    write_json(run, out_dir / "run.json")
    described = "one-hot bases" if kind == "onehot" else f"k-mer frequencies, k={ks}"
    chose = f"C {chosen_c:g}" + (" (best validation AUROC)" if search else "")
    log(f"baseline: {name} fitted on {len(train.labels)} windows ({described}; {chose})")
    return run
