"""Why a CNN recipe collapses (a benchmark, not a test): train a recipe of recipes.py for a few epochs at several
seeds and, after every epoch, count the dense head's dead units (hidden ReLUs that no validation window activates)
and measure the scale of the head's input, beside the train loss and validation AUROC.

    .venv/bin/python benchmarks/quality/collapse.py RECIPE[:key=value;...] --datasets deepbind_CTCFL --seeds 1 2 3
        [--epochs 3]

The schedule is the recipe's own (its ``epochs``, 30 by default); training stops after ``--epochs`` of them. Every
run is appended as one JSON line to ~/.cache/genomedl/quality/collapse.jsonl and printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from public_sets import CACHE  # noqa: E402
from recipes import DATASETS, RESULTS, recipe_settings  # noqa: E402

from genomedl.data.datasets import load_dataset  # noqa: E402
from genomedl.data.files import DatasetFiles  # noqa: E402
from genomedl.errors import GenomedlError  # noqa: E402
from genomedl.models.layers import one_hot  # noqa: E402
from genomedl.stages.train import run_train  # noqa: E402
from genomedl.tables import read_tsv  # noqa: E402
from genomedl.training.callbacks import HistoryWriter  # noqa: E402

LOG = CACHE / "collapse.jsonl"
SAMPLE = 1000  # validation windows the head is probed on


@torch.no_grad()
def head_state(module, tokens: torch.Tensor) -> dict:
    """Dead fraction of the first dense layer's units (no window of ``tokens`` activates them, eval mode) and the
    mean absolute value of the head's input (the pooled feature map)."""
    model = module.model
    model.eval()
    pooled = model.head[0](model.features(one_hot(tokens)))
    hidden = torch.relu(model.head[1][0](pooled))
    model.train()
    return {
        "dead_units": round(float((hidden.amax(0) <= 0).float().mean()), 4),
        "head_input_mean_abs": round(float(pooled.abs().mean()), 4),
    }


def probe(recipe: str, dataset: str, seed: int, epochs: int) -> dict:
    """Train ``recipe`` on ``dataset`` for ``epochs`` epochs of its schedule, without restarts; per epoch the
    history row and the head's state; ``collapsed``: the line the train stage stopped with, if it did."""
    settings = {**recipe_settings(recipe), "restarts": 0}
    root = RESULTS / DATASETS[dataset][0]
    files = DatasetFiles(  # with the gate's qc.json, as the workflow trains: its verdicts steer the auto keys
        root / "encoded" / "tokens.npy",
        root / "encoded" / "meta.json",
        root / "labels.tsv",
        root / "split.tsv",
        root / "qc" / "qc.json",
    )
    val = load_dataset(files).parts["val"]
    sample = torch.from_numpy(np.asarray(val.tokens[: min(SAMPLE, len(val.labels))]))
    states = []
    original = HistoryWriter.on_train_epoch_end

    def watched(self, trainer, module):
        states.append(head_state(module, sample))
        trainer.should_stop = trainer.current_epoch + 1 >= epochs
        original(self, trainer, module)

    HistoryWriter.on_train_epoch_end = watched
    collapsed = None
    try:
        with tempfile.TemporaryDirectory() as out:
            try:
                run_train(files, Path(out) / "m", "cnn", dict(settings), seed, log=lambda *a: None)
            except GenomedlError as exc:
                collapsed = str(exc)
            history = read_tsv(Path(out) / "m" / "history.tsv").to_dict("records")
    finally:
        HistoryWriter.on_train_epoch_end = original
    keys = ("epoch", "train_loss", "val_auroc", "grad_flags")
    rows = [{**{k: r[k] for k in keys}, **state} for r, state in zip(history, states)]
    return {"recipe": recipe, "dataset": dataset, "seed": seed, "collapsed": collapsed, "epochs": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="+")
    parser.add_argument("--datasets", nargs="+", default=["deepbind_CTCFL"], choices=list(DATASETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for recipe in args.recipes:
        for dataset in args.datasets:
            for seed in args.seeds:
                result = probe(recipe, dataset, seed, args.epochs)
                with open(LOG, "a") as handle:
                    handle.write(json.dumps(result) + "\n")
                print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
