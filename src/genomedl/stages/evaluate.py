"""Evaluate stage: test-split predictions, metrics with bootstrap confidence intervals, figures."""

from __future__ import annotations

from pathlib import Path

from genomedl import plotting
from genomedl.config import stage_settings
from genomedl.data.datasets import load_dataset
from genomedl.data.files import DatasetFiles
from genomedl.scoring import model_proba
from genomedl.stats.bootstrap import bootstrap_distribution, interval
from genomedl.stats.scores import compute_metrics, metrics_table, prediction_table
from genomedl.tables import read_json, write_json, write_tsv


def run_evaluate(model_dir: Path, dataset: DatasetFiles, out_dir: Path, settings: dict, seed: int, log=print) -> dict:
    """Score the test split; write predictions.tsv, metrics.json, metrics.tsv and the model's figures in
    ``out_dir``. ``settings``: schema section ``evaluate`` (bootstrap resamples); ``seed``: the bootstrap's."""
    n_boot = stage_settings("evaluate", settings)["bootstrap"]
    data = load_dataset(dataset)
    test = data.parts["test"]
    probs = model_proba(model_dir, test.tokens)
    run = read_json(model_dir / "run.json")
    write_tsv(prediction_table(test.ids, test.labels, probs, data.classes), out_dir / "predictions.tsv")
    result = {
        "model": run["model"],
        "arch": run["arch"],
        "classes": data.classes,
        "split": "test",
        **compute_metrics(test.labels, probs, data.classes),
    }
    if n_boot and len(test.labels):
        dist = bootstrap_distribution(test.labels, probs, n_boot, seed)
        result["ci"] = {k: interval(v) for k, v in dist.items()}
        result["bootstrap"] = {"resamples": n_boot, "seed": seed, "level": 0.95}
    write_tsv(metrics_table(result), out_dir / "metrics.tsv")
    plotting.save(plotting.roc_pr({run["model"]: result}, data.classes), out_dir / "roc_pr.png")
    plotting.save(plotting.calibration({run["model"]: result}), out_dir / "calibration.png")
    plotting.save(plotting.confusion(run["model"], result), out_dir / "confusion.png")
    write_json(result, out_dir / "metrics.json")
    log(f"evaluate: {run['model']} AUROC {result['auroc']} MCC {result['mcc']} on {result['n']} test windows")
    return result
