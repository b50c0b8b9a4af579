"""k-fold ensembles (``split.strategy: kfold``): each model's k fold models and their average on the one
outer test split.

Fold ``f`` of a model was trained with fold ``f``'s validation rows held out; all folds share the test split.
The ensemble averages the fold models' class probabilities. Every score is taken on the same bootstrap
resamples (:mod:`.bootstrap`), so the gain (ensemble minus the mean of the fold models) has a paired interval.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genomedl.atomic import atomic_dir
from genomedl.config import stage_settings
from genomedl.data.datasets import load_dataset
from genomedl.data.files import DatasetFiles
from genomedl.errors import GenomedlError
from genomedl.scoring import model_proba
from genomedl.stats.bootstrap import bootstrap_distribution, interval, paired_test
from genomedl.stats.metrics import weighted_metrics
from genomedl.stats.scores import prediction_table
from genomedl.tables import write_json, write_tsv

REPORTED = ("auroc", "mcc", "accuracy")


def _value(value) -> float | None:
    return round(float(value), 6) if value is not None and np.isfinite(value) else None


def _nan(value: float | None) -> float:
    return np.nan if value is None else float(value)


def _scores(y: np.ndarray, probs: np.ndarray, n_boot: int, seed: int) -> tuple[dict, np.ndarray]:
    """({metric: [value, low, high]}, AUROC on each bootstrap resample ``[n_boot]``) of ``probs [N, C]``;
    no interval (None, None) without resamples."""
    point = weighted_metrics(y, probs, np.ones((1, len(y))))
    dist = bootstrap_distribution(y, probs, n_boot, seed) if n_boot else {}
    scores = {k: [_value(point[k][0]), *((interval(dist[k]) if dist else None) or [None, None])] for k in REPORTED}
    return scores, dist.get("auroc", np.full(0, np.nan))


def _model_row(model: str, model_dirs: list[Path], test, classes: list[str], folder: Path, n_boot: int, seed: int, log):
    """The ensemble.json row of one model (its fold models ``model_dirs``, fold 0 first) on the test rows
    ``test``; writes its fold and ensemble predictions under ``folder/<model>/``."""
    folds, fold_dists, probs = [], [], []
    for fold, model_dir in enumerate(model_dirs):
        probs.append(model_proba(model_dir, test.tokens))
        scores, dist = _scores(test.labels, probs[-1], n_boot, seed)
        folds.append({"fold": fold, **scores})
        fold_dists.append(dist)
    mean = np.mean(probs, axis=0)
    for name, p in [*((f"fold{f}", p) for f, p in enumerate(probs)), ("ensemble", mean)]:
        write_tsv(prediction_table(test.ids, test.labels, p, classes), folder / model / f"{name}.tsv")
    ensemble, dist = _scores(test.labels, mean, n_boot, seed)
    fold_auroc = np.array([_nan(f["auroc"][0]) for f in folds])
    delta = paired_test(dist, np.mean(fold_dists, axis=0))["delta_ci"] if n_boot else None
    gain = [_value(_nan(ensemble["auroc"][0]) - fold_auroc.mean()), *(delta or [None, None])]
    log(
        f"ensemble: {model}: fold AUROC {np.nanmin(fold_auroc):.4f}-{np.nanmax(fold_auroc):.4f}, ensemble "
        f"{ensemble['auroc'][0]}, gain {gain} on {len(test.labels)} test windows"
    )
    return {"model": model, "folds": folds, "ensemble": ensemble, "gain": {"auroc": gain}}


def run_ensemble(
    dataset: DatasetFiles,
    out: Path,
    predictions_dir: Path,
    models: list[str],
    model_dirs: list[Path],
    k: int,
    settings: dict,
    seed: int,
    log=print,
) -> dict:
    """Score the test split with each model's ``k`` fold models (``model_dirs``: fold 0...k-1 of the first
    model, then of the next...) and their mean; write ``out`` (ensemble.json) and, per model,
    ``predictions_dir/<model>/fold<f>.tsv`` and ``ensemble.tsv`` (columns of predictions.tsv).
    ``settings``: schema section ``evaluate`` (bootstrap resamples); ``seed``: the bootstrap's."""
    n_boot = stage_settings("evaluate", settings)["bootstrap"]
    if len(model_dirs) != k * len(models):
        raise GenomedlError(f"{len(model_dirs)} model folders for {len(models)} models of {k} folds; give k per model")
    data = load_dataset(dataset)
    test = data.parts["test"]
    if len(test.labels) == 0:
        raise GenomedlError(f"{dataset.split}: the test split is empty; the ensemble is scored on it")
    rows = []
    with atomic_dir(predictions_dir) as folder:
        for i, model in enumerate(models):
            rows.append(
                _model_row(model, model_dirs[i * k : (i + 1) * k], test, data.classes, folder, n_boot, seed, log)
            )
    result = {"metric": "auroc", "k": k, "n": int(len(test.labels)), "split": "test", "models": rows}
    if n_boot:
        result["bootstrap"] = {"resamples": n_boot, "seed": seed, "level": 0.95}
    write_json(result, out)
    return result
