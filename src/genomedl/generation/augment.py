"""Augmentation: retrain the scoring classifier with generated windows added to the train split as
members of their class, and compare recall of that class on the test split with the original."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from genomedl.data.files import DatasetFiles
from genomedl.tables import read_json


def class_recall(model, tokens: np.ndarray, labels: np.ndarray, index: int) -> float:
    """Recall of class ``index`` (argmax of strand-averaged probabilities) on windows ``[N, L]``."""
    from genomedl.inference import predict_proba

    rows = labels == index
    return float((predict_proba(model, tokens[rows]).argmax(1) == index).mean()) if rows.any() else float("nan")


def augmentation_effect(classifier: Path, data, label: str, generated: np.ndarray, seed: int) -> dict:
    """Train the classifier's settings again on train + ``generated`` (labelled ``label``); test recall of
    ``label`` and balanced accuracy, without and with the generated windows."""
    from genomedl.inference import load_model, predict_proba
    from genomedl.training.run import train_model

    settings = read_json(classifier.parent / "run.json")["settings"]
    index = data.classes.index(label)
    test = data.parts["test"]
    parts = [(name, data.parts[name].tokens, data.parts[name].labels) for name in ("train", "val")]
    parts.append(("train", generated, np.full(len(generated), index)))
    tokens = np.concatenate([p[1] for p in parts])
    labels = np.concatenate([p[2] for p in parts])
    split = np.concatenate([[p[0]] * len(p[1]) for p in parts])
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        np.save(folder / "tokens.npy", tokens)
        ids = [f"w{i}" for i in range(len(tokens))]
        pd.DataFrame({"id": ids, "label": np.asarray(data.classes)[labels]}).to_csv(
            folder / "labels.tsv", sep="\t", index=False
        )
        pd.DataFrame({"id": ids, "split": split}).to_csv(folder / "split.tsv", sep="\t", index=False)
        (folder / "meta.json").write_text(json.dumps({"classes": data.classes, "length": data.length}))
        files = DatasetFiles(folder / "tokens.npy", folder / "meta.json", folder / "labels.tsv", folder / "split.tsv")
        train_model(files, folder / "model", "augmented", settings, seed, log=lambda *_: None)
        augmented, _ = load_model(folder / "model" / "model.ckpt")
    original, _ = load_model(classifier)
    out = {"classifier": settings["arch"], "added_windows": int(len(generated)), "test_windows": int(len(test.labels))}
    for name, model in (("original", original), ("augmented", augmented)):
        predicted = predict_proba(model, test.tokens).argmax(1)
        recalls = [float((predicted[test.labels == i] == i).mean()) for i in np.unique(test.labels)]
        out[name] = {
            "recall": class_recall(model, test.tokens, test.labels, index),
            "balanced_accuracy": float(np.mean(recalls)),
        }
    return out
