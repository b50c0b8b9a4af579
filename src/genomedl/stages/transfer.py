"""Cross-dataset evaluation: a dataset's models and baselines scored on the windows of other datasets of the
same task and window length (``datasets.<name>.evaluate_on``), beside their own test-split numbers.

Writes ``results/{dataset}/evaluation/transfer.json``: ``{"metric": "auroc", "rows": [...]}``, one in-dataset
row per model (the evaluate stage's ``metrics.json``, so both agree exactly) followed by one row per target.
Every metric is ``[value, low, high]``: the 95% bootstrap interval on the same resamples as the evaluate stage
(``low``/``high`` None without bootstrap).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genomedl.choices import TRANSFER_SPLITS, in_words
from genomedl.config import stage_settings
from genomedl.data.datasets import load_dataset
from genomedl.data.files import DatasetFiles
from genomedl.encoding.tokens import load_tokens
from genomedl.errors import GenomedlError
from genomedl.scoring import model_proba
from genomedl.stats.bootstrap import bootstrap_distribution, interval
from genomedl.stats.scores import compute_metrics
from genomedl.tables import read_json, read_tsv, write_json

METRICS = ("auroc", "mcc", "accuracy")  # the columns of the transfer table
DATA_FILES = ("tokens", "meta", "labels", "split")


def target_windows(files: dict, split: str) -> tuple[np.ndarray, list[str], dict]:
    """Tokens ``[n, L]`` (memory-mapped for ``all``), class names ``[n]`` and meta.json of a target dataset's
    test split or of all its windows; ``files``: its tokens, meta, labels and split files."""
    meta = read_json(files["meta"])
    if split == "test":
        test = load_dataset(DatasetFiles(*(files[k] for k in DATA_FILES))).parts["test"]
        if not len(test.labels):
            raise GenomedlError(f"{files['split']}: no test windows; evaluate on this dataset with split: all")
        return test.tokens, [meta["classes"][i] for i in test.labels], meta
    tokens, labels = load_tokens(files["tokens"]), read_tsv(files["labels"])["label"].tolist()
    if len(labels) != len(tokens):
        raise GenomedlError(f"{files['labels']}: {len(labels)} rows for {len(tokens)} windows; rerun the encode stage")
    return tokens, labels, meta


def check_target(run: dict, dataset: str, target: str, meta: dict, meta_path) -> None:
    """The target's windows must have the length and classes of the model (``run``: its run.json)."""
    key = f"config key datasets.{dataset}.evaluate_on"
    if int(meta["length"]) != int(run["length"]):
        raise GenomedlError(
            f"{key}: {target} has {meta['length']} bp windows ({meta_path}), model {run['model']} {run['length']} bp; "
            "evaluate on a dataset of the same window.length"
        )
    if set(map(str, meta["classes"])) != set(map(str, run["classes"])):
        raise GenomedlError(
            f"{key}: {target} has classes {meta['classes']} ({meta_path}), model {run['model']} {run['classes']}; "
            "evaluate on a dataset of the same task and labels"
        )


def transfer_row(metrics: dict, intervals: dict, **fields) -> dict:
    """One row of the table: ``fields`` (model, trained_on, evaluated_on, split, n, in_dataset) and
    ``[value, low, high]`` of each of :data:`METRICS`."""
    return fields | {k: [metrics[k], *(intervals.get(k) or [None, None])] for k in METRICS}


def cross_row(run: dict, dataset: str, target: str, split: str, tokens, labels: list[str], n_boot: int, seed: int):
    """Score ``tokens`` with the model of ``run`` and compare with ``labels`` (in the model's class order)."""
    classes = list(map(str, run["classes"]))
    index = {name: i for i, name in enumerate(classes)}
    y = np.array([index[str(label)] for label in labels], dtype=np.int64)
    probs = model_proba(run["dir"], tokens)
    metrics = compute_metrics(y, probs, classes)
    intervals = (
        {k: interval(v) for k, v in bootstrap_distribution(y, probs, n_boot, seed).items()} if n_boot and len(y) else {}
    )
    fields = dict(model=run["model"], trained_on=dataset, evaluated_on=target, split=split, n=len(y), in_dataset=False)
    return transfer_row(metrics, intervals, **fields)


def check_targets(targets: dict) -> None:
    """Each target names its split and the files that split needs (no split file for ``all``)."""
    for name, target in targets.items():
        needed = DATA_FILES if target.get("split") == "test" else DATA_FILES[:3]
        if target.get("split") not in TRANSFER_SPLITS or not set(needed) <= set(target.get("files", {})):
            raise GenomedlError(
                f"--targets {name}: give split ({in_words(TRANSFER_SPLITS)}) and files "
                f"({', '.join(DATA_FILES)}; split only for split test)"
            )


def run_transfer(
    dataset: str,
    model_dirs: list[Path],
    eval_dirs: list[Path],
    targets: dict,
    out: Path,
    settings: dict,
    seed: int,
    log=print,
) -> dict:
    """Score every model of ``model_dirs`` (trained on ``dataset``) on each of ``targets``
    (``{name: {"split": "test" | "all", "files": {tokens, meta, labels, split}}}``) and write ``out``.

    ``eval_dirs``: the evaluate stage's folders of the same models (their metrics.json are the in-dataset rows);
    ``settings``: schema section ``evaluate`` (bootstrap resamples); ``seed``: the bootstrap's."""
    n_boot = stage_settings("evaluate", settings)["bootstrap"]
    check_targets(targets)
    runs = [read_json(Path(d) / "run.json") | {"dir": Path(d)} for d in model_dirs]
    evals = {m["model"]: m for m in (read_json(Path(d) / "metrics.json") for d in eval_dirs)}
    missing = [r["model"] for r in runs if r["model"] not in evals]
    if missing:
        raise GenomedlError(f"--eval-dirs: no metrics.json of model(s) {', '.join(missing)}; run the evaluate stage")
    rows = []
    for run in runs:
        own = evals[run["model"]]
        fields = dict(model=run["model"], trained_on=dataset, evaluated_on=dataset, split="test", n=own["n"])
        rows.append(transfer_row(own, own.get("ci") or {}, **fields, in_dataset=True))
    for name, target in targets.items():
        tokens, labels, meta = target_windows(target["files"], target["split"])
        for run in runs:
            check_target(run, dataset, name, meta, target["files"]["meta"])
            rows.append(cross_row(run, dataset, name, target["split"], tokens, labels, n_boot, seed))
            log(
                f"transfer: {run['model']} ({dataset}) on {name} {target['split']}: AUROC {rows[-1]['auroc'][0]} "
                f"on {rows[-1]['n']} windows (own test split {evals[run['model']]['auroc']})"
            )
    rows.sort(key=lambda r: (r["model"], not r["in_dataset"]))  # each model's own row, then its targets'
    result = {"metric": "auroc", "rows": rows}
    write_json(result, out)
    return result
