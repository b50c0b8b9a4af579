"""Recipe selection for the default ``cnn`` (a benchmark, not a test): train named variants of a models entry
with the package's own train stage (:func:`genomedl.stages.train.run_train`) on the harness's data and splits, score
the test split as the evaluate stage does (both strands averaged for a model trained with ``rc_augment``, else
the forward strand) and against the k-mer baseline (paired bootstrap).

    .venv/bin/python benchmarks/quality/recipes.py RECIPE[:key=value;...] ... [--seeds 42] [--datasets promoters]
    .venv/bin/python benchmarks/quality/recipes.py ensemble RECIPE --seeds 42 1 2 [--datasets statlog_dna]
    .venv/bin/python benchmarks/quality/recipes.py table

(``residual:rc_augment=false;batch_size=16``: the recipe ``residual`` with two keys changed.) Datasets: statlog_dna
and promoters (the default), thaliana_splice_site (the harness's A. thaliana slice, about 10 minutes a run here).

Needs the harness's extracted data (run ``benchmarks/quality/run.py`` once): the encoded tokens, labels and
predefined splits under ~/.cache/genomedl/quality/work/results/ and the baseline's test predictions there.
Every result is appended as one JSON line to ~/.cache/genomedl/quality/recipes.jsonl and printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from public_sets import CACHE  # noqa: E402

from genomedl.choices import ARCHITECTURES  # noqa: E402
from genomedl.data.datasets import load_dataset  # noqa: E402
from genomedl.data.files import DatasetFiles  # noqa: E402
from genomedl.inference import load_model, predict_proba  # noqa: E402
from genomedl.scoring import model_proba  # noqa: E402
from genomedl.stages.train import run_train  # noqa: E402
from genomedl.stats.bootstrap import bootstrap_distribution, paired_test  # noqa: E402
from genomedl.tables import read_tsv  # noqa: E402
from genomedl.training.engine import macro_auroc  # noqa: E402

RESULTS = CACHE / "work" / "results"
LOG = CACHE / "recipes.jsonl"
PROBS = CACHE / "recipe_probs"  # test probabilities of every run, for `ensemble`
DATASETS = {
    "statlog_dna": ["statlog_dna"],
    "promoters": [f"promoters_fold{i}" for i in range(10)],
    "thaliana_splice_site": ["thaliana_splice_site"],  # the harness's A. thaliana slice (run.py)
    "thaliana_exon_intron": ["thaliana_exon_intron"],
    **{f"deepbind_{tf}": [f"deepbind_{tf}"] for tf in ("CTCFL", "USF1", "ARID3A")},  # binding sites (run.py)
}
# the cnn entry as the harness ran it before recipe selection (Basset-like, schema defaults of 2026-11-26, epochs 10)
BASSET = {
    "arch": "cnn",
    "filters": [300, 200, 200],
    "kernels": [19, 11, 7],
    "pools": [3, 4, 4],
    "dilations": 1,
    "hidden": [1000, 1000],
    "dropout": 0.3,
    "head": "flatten",
    "epochs": 10,
    "batch_size": 64,
    "lr": 0.001,
    "weight_decay": 0.01,
    "schedule": "none",
    "warmup_epochs": 0,
    "monitor": "val_loss",
    "patience": 5,
    "rc_augment": True,
}
RECIPES = {
    "default": {"arch": "cnn"},  # whatever the schema and the model code give now
    "basset_e10": BASSET,
}
SCHEDULE = {"epochs": 30, "schedule": "cosine", "warmup_epochs": 1, "monitor": "val_auroc", "patience": 10}
RESIDUAL = {
    "arch": "cnn",
    "filters": [128, 128, 128, 128],
    "kernels": [15, 5, 5, 5],
    "dilations": [1, 1, 2, 4],
    "pools": [1, 2, 2, 2],
    "residual": True,
    "hidden": [256],
    "dropout": 0.2,
    "head": "flatten",
    "batch_size": 64,
    "lr": 0.001,
    "weight_decay": 0.01,
    "rc_augment": True,
    **SCHEDULE,
}
RECIPES.update({"basset_schedule": {**BASSET, **SCHEDULE}, "residual": RESIDUAL})
# the plain reference for signals anywhere in the window (issue "Defaults that win wherever the signal sits"): the
# default's residual dilated blocks, global max + mean pooling, reverse-complement augmentation (both strands averaged
# at test), nothing else of the default's recipe (no label smoothing, weight average or extra weight decay)
PLAIN = {
    "arch": "cnn",
    "head": "pooled",
    "rc_augment": True,
    "label_smoothing": 0.0,
    "ema_epochs": 0,
    "weight_decay": 0.01,
}
RECIPES["plain"] = PLAIN
RECIPES["residual_mixed"] = {**RESIDUAL, "monitor": "val_loss", "head": "mixed", "batch_size": "auto"}
# the other architectures as `arch: <name>` gives them (bert needs a pretrain stage: the harness workflow runs it)
RECIPES.update({arch: {"arch": arch} for arch in ARCHITECTURES if arch not in ("cnn", "bert")})


def train_log(line: str) -> None:
    """The train stage's lines (one per epoch), on stderr when GENOMEDL_RECIPE_LOG is set."""
    if os.environ.get("GENOMEDL_RECIPE_LOG"):
        print(line, file=sys.stderr, flush=True)


def evaluate(model_dir: Path, part) -> dict[str, np.ndarray]:
    """Test probabilities ``[N, C]``: both strands averaged (the evaluate stage) and the forward strand only."""
    model, _ = load_model(model_dir / "model.ckpt")
    return {
        "both": model_proba(model_dir, part.tokens),
        "forward": predict_proba(model, part.tokens, both_strands=False),
    }


def scores(y: np.ndarray, probs: np.ndarray, baseline: np.ndarray, seed: int) -> dict:
    """Accuracy, macro AUROC, and the paired bootstrap (1000 resamples) of AUROC against the baseline's."""
    model_dist = bootstrap_distribution(y, probs, 1000, seed)
    base_dist = bootstrap_distribution(y, baseline, 1000, seed)
    auroc = float(macro_auroc(y, probs))
    test = paired_test(model_dist["auroc"], base_dist["auroc"])
    return {
        "accuracy": round(float((probs.argmax(1) == y).mean()), 4),
        "auroc": round(auroc, 4),
        "kmer_auroc": round(float(macro_auroc(y, baseline)), 4),
        "delta_ci": test["delta_ci"],
        "p": test["p"],
    }


def recipe_settings(recipe: str) -> dict:
    """The models entry of ``recipe`` (``name[:key=value;...]``: a recipe of RECIPES with keys changed)."""
    name, _, changes = recipe.partition(":")
    return {**RECIPES[name], **{k: yaml.safe_load(v) for k, v in (c.split("=", 1) for c in changes.split(";") if c)}}


def run(recipe: str, dataset: str, seed: int) -> dict:
    """Train ``recipe`` on every part of ``dataset`` (the 10 folds of promoters: test predictions pooled)."""
    settings = recipe_settings(recipe)
    ys, probs, baselines, epochs = [], {"both": [], "forward": []}, [], []
    epoch_seconds, best_val_auroc, resolved = [], [], []
    started = time.perf_counter()
    for part in DATASETS[dataset]:
        root = RESULTS / part
        files = (
            root / "encoded" / "tokens.npy",
            root / "encoded" / "meta.json",
            root / "labels.tsv",
            root / "split.tsv",
        )
        dataset_files = DatasetFiles(*files, qc=root / "qc" / "qc.json")  # the gate's verdicts steer the auto keys
        data = load_dataset(dataset_files)
        test = data.parts["test"]
        with tempfile.TemporaryDirectory() as out:
            record = run_train(dataset_files, Path(out), "cnn", dict(settings), seed, log=train_log)
            history = read_tsv(Path(out) / "history.tsv")
            for strands, p in evaluate(Path(out), test).items():
                probs[strands].append(p)
        resolved.append({k: record["settings"].get(k) for k in ("rc_augment", "head")})
        epochs.append(record["best_epoch"])
        epoch_seconds.append(float(history["seconds"].median()))
        best_val_auroc.append(float(history["val_auroc"].max()))
        kmer = read_tsv(root / "eval" / "kmer_logreg" / "predictions.tsv").set_index("id").loc[test.ids]
        baselines.append(kmer[[f"p_{c}" for c in data.classes]].to_numpy(float))
        ys.append(test.labels)
    y, baseline = np.concatenate(ys), np.concatenate(baselines)
    result = {
        "recipe": recipe,
        "dataset": dataset,
        "seed": seed,
        "settings": settings,
        "resolved": resolved,  # the auto keys as trained, per part
        "best_epochs": epochs,
        "minutes": round((time.perf_counter() - started) / 60, 2),
        "epoch_seconds": round(float(np.median(epoch_seconds)), 1),
        "best_val_auroc": [round(v, 4) for v in best_val_auroc],
    }
    for strands, p in probs.items():
        result[strands] = scores(y, np.concatenate(p), baseline, seed)
    PROBS.mkdir(parents=True, exist_ok=True)
    np.savez(probs_path(recipe, dataset, seed), y=y, probs=np.concatenate(probs["both"]), baseline=baseline)
    return result


def probs_path(recipe: str, dataset: str, seed: int) -> Path:
    """Where a run's test labels, probabilities ``[N, C]`` (as evaluated) and baseline probabilities are kept."""
    return PROBS / f"{recipe.replace('/', '_')}__{dataset}__{seed}.npz"


def ensemble(recipe: str, dataset: str, seeds: list[int]) -> str:
    """Accuracy and AUROC of the seeds' runs of ``recipe`` averaged (probabilities), beside each run's own."""
    runs = [np.load(probs_path(recipe, dataset, seed)) for seed in seeds]
    y, baseline = runs[0]["y"], runs[0]["baseline"]
    single = [scores(y, r["probs"], baseline, seed)["accuracy"] for r, seed in zip(runs, seeds)]
    mean = scores(y, np.mean([r["probs"] for r in runs], axis=0), baseline, seeds[0])
    return (
        f"{recipe} {dataset}: seeds {seeds} single accuracy {single} (mean {np.mean(single):.4f}); "
        f"average of their probabilities: accuracy {mean['accuracy']:.4f} AUROC {mean['auroc']:.4f} "
        f"(k-mer {mean['kmer_auroc']:.4f}, p {mean['p']})"
    )


def table() -> str:
    """Markdown table of every result in LOG (the latest per recipe, dataset and seed)."""
    latest = {}
    for line in LOG.read_text().splitlines():
        r = json.loads(line)
        latest[r["recipe"], r["dataset"], r["seed"]] = r
    rows = [
        "| dataset | recipe | seed | accuracy (both strands) | AUROC (both strands) | AUROC - k-mer [95 % CI], p "
        "| forward strand: accuracy, AUROC | best epochs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (recipe, dataset, seed), r in sorted(latest.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])):
        both, fwd, ci = r["both"], r["forward"], r["both"]["delta_ci"]
        rows.append(
            f"| {dataset} | `{recipe}` | {seed} | {both['accuracy']:.4f} | {both['auroc']:.4f} | "
            f"{both['auroc'] - both['kmer_auroc']:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}], {both['p']:.3f} | "
            f"{fwd['accuracy']:.4f}, {fwd['auroc']:.4f} | {', '.join(map(str, r['best_epochs']))} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "recipes",
        nargs="+",
        help=f"recipe[:key=value;...] (keys of a models entry), 'table' (the results so far as markdown) or "
        f"'ensemble RECIPE' (the --seeds runs of RECIPE averaged); "
        f"recipes: {', '.join(RECIPES)}",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--datasets", nargs="+", default=["statlog_dna", "promoters"], choices=list(DATASETS))
    args = parser.parse_args()
    if args.recipes == ["table"]:
        return print(table())
    if args.recipes[0] == "ensemble":
        return print("\n".join(ensemble(args.recipes[1], d, args.seeds) for d in args.datasets))
    torch.set_num_threads(1)
    for recipe in args.recipes:
        for dataset in args.datasets:
            for seed in args.seeds:
                result = run(recipe, dataset, seed)
                with open(LOG, "a") as handle:
                    handle.write(json.dumps(result) + "\n")
                both, fwd = result["both"], result["forward"]
                print(
                    f"{recipe:24s} {dataset:12s} seed {seed}: both strands acc {both['accuracy']:.4f} "
                    f"AUROC {both['auroc']:.4f} (k-mer {both['kmer_auroc']:.4f}, p {both['p']}); forward acc "
                    f"{fwd['accuracy']:.4f} AUROC {fwd['auroc']:.4f}; best epochs {result['best_epochs']}; "
                    f"{result['minutes']} min",
                    flush=True,
                )


if __name__ == "__main__":
    main()
