"""Evaluate stage: test-split predictions, metrics with bootstrap confidence intervals, figures; the probabilities
are calibrated (the model's validation temperature), with the calibration scores before and after it; where the quality
gate found test windows with a near copy in train, every metric again on the novel ones (``novel``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genomedl import plotting
from genomedl.config import stage_settings
from genomedl.data.datasets import load_dataset
from genomedl.data.files import DatasetFiles
from genomedl.scoring import load_scorer
from genomedl.stats.bootstrap import bootstrap_distribution, interval
from genomedl.stats.calibration import calibration_scores
from genomedl.stats.metrics import SCALARS
from genomedl.stats.scores import compute_metrics, metrics_table, prediction_table, reliability
from genomedl.tables import read_json, write_json, write_tsv

RELIABILITY_BINS = 15  # as compute_metrics draws the calibrated diagram


def near_test_windows(qc: Path | None, ids) -> np.ndarray:
    """Which test windows ``[N]`` (bool) have a train window at or above the identity threshold on either strand
    (the quality gate's qc.json ``near_duplicates.test_ids``); none without a qc.json or its leakage check."""
    if qc is None or not Path(qc).exists():
        return np.zeros(len(ids), bool)
    found = read_json(qc).get("near_duplicates", {}).get("test_ids", [])
    return np.isin(np.asarray(ids, dtype=str), np.asarray(found, dtype=str))


def novel_metrics(y: np.ndarray, probs: np.ndarray, classes: list[str], near: int, n_boot: int, seed: int) -> dict:
    """The scalar metrics (with bootstrap intervals) on the test windows without a near copy in train."""
    scored = compute_metrics(y, probs, classes) if len(y) else {"n": 0}
    out = {"n": int(len(y)), "near": near, **{k: scored.get(k) for k in SCALARS}}
    if n_boot and len(np.unique(y)) > 1:
        out["ci"] = {k: interval(v) for k, v in bootstrap_distribution(y, probs, n_boot, seed).items()}
    return out


def before_and_after(name: str, result: dict) -> dict[str, dict]:
    """The reliability diagrams to draw: the model as scored and, where a temperature changed it, as trained."""
    scaling = result["temperature"]
    if scaling["value"] == 1.0 or scaling["calibration_before"] is None:
        return {name: result}
    before = {"calibration": scaling["calibration_before"], "ece": scaling["test_before"]["ece"]}
    return {f"{name}, T = {scaling['value']:.2f}": result, f"{name}, as trained": before}


def run_evaluate(model_dir: Path, dataset: DatasetFiles, out_dir: Path, settings: dict, seed: int, log=print) -> dict:
    """Score the test split; write predictions.tsv, metrics.json, metrics.tsv and the model's figures in
    ``out_dir``. ``settings``: schema section ``evaluate`` (bootstrap resamples); ``seed``: the bootstrap's."""
    n_boot = stage_settings("evaluate", settings)["bootstrap"]
    data = load_dataset(dataset)
    test = data.parts["test"]
    scorer = load_scorer(model_dir, "cpu", "trained")
    raw = scorer.raw_proba(test.tokens, batch_size=512)
    probs = scorer.calibrate(raw)  # what predict, variant effects and the exported program give
    run = read_json(model_dir / "run.json")
    write_tsv(prediction_table(test.ids, test.labels, probs, data.classes), out_dir / "predictions.tsv")
    result = {
        "model": run["model"],
        "arch": run["arch"],
        "classes": data.classes,
        "split": "test",
        **compute_metrics(test.labels, probs, data.classes),
    }
    result["temperature"] = {
        "value": scorer.temperature,
        "fitted_on": (run.get("calibration") or {}).get("fitted_on"),
        "test_before": calibration_scores(test.labels, raw) if len(test.labels) else None,
        "test_after": calibration_scores(test.labels, probs) if len(test.labels) else None,
        # the reliability diagram without the temperature
        "calibration_before": reliability(test.labels, raw, RELIABILITY_BINS) if len(test.labels) else None,
    }
    if n_boot and len(test.labels):
        dist = bootstrap_distribution(test.labels, probs, n_boot, seed)
        result["ci"] = {k: interval(v) for k, v in dist.items()}
        result["bootstrap"] = {"resamples": n_boot, "seed": seed, "level": 0.95}
    near = near_test_windows(dataset.qc, test.ids)
    if near.any():
        result["novel"] = novel_metrics(test.labels[~near], probs[~near], data.classes, int(near.sum()), n_boot, seed)
    write_tsv(metrics_table(result), out_dir / "metrics.tsv")
    plotting.save(plotting.roc_pr({run["model"]: result}, data.classes), out_dir / "roc_pr.png")
    plotting.save(plotting.calibration(before_and_after(run["model"], result)), out_dir / "calibration.png")
    plotting.save(plotting.confusion(run["model"], result), out_dir / "confusion.png")
    write_json(result, out_dir / "metrics.json")
    log(f"evaluate: {run['model']} AUROC {result['auroc']} MCC {result['mcc']} on {result['n']} test windows")
    return result
