"""Model cards: what an exported model does, how to call it, what it was trained on and how well it did.

:func:`model_card` gathers the card (a JSON-ready dict) from the files of a run: run.json (settings,
seed, versions), eval metrics.json (test metrics with bootstrap intervals), the fetch manifest (record
accessions, versions, checksums), the extract and split summaries. Secrets (keys named like
``api_key``, ``password``, ``secret``) are dropped wherever they occur. :func:`card_markdown` renders it.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from genomedl.encoding.tokenizer import FIRST_KMER
from genomedl.provenance import sha256_file, utc_now, versions
from genomedl.sequence import ALPHABET
from genomedl.sources.manifest import MANIFEST_COLUMNS
from genomedl.stats.metrics import SCALARS

SECRET = re.compile(r"api[_-]?key|password|secret", re.IGNORECASE)
RUN_KEYS = (
    "seed",
    "config_hash",
    "settings",
    "train_counts",
    "imbalance",
    "class_weights",
    "best_epoch",
    "epochs_run",
    "monitor",
    "best_score",
    "fit_verdict",
    "precision",
    "world_size",
    "train_seconds",
    "versions",
    "git_commit",
    "hardware",
    "started_at",
    "finished_at",
)
RECORD_KEYS = tuple(MANIFEST_COLUMNS)  # every column of the provenance manifest
SPLIT_KEYS = ("strategy", "group_by", "group_key", "seed", "fractions", "windows", "groups", "class_counts")
EXTRACT_KEYS = ("task", "source", "records", "windows", "window_length", "class_counts", "bases", "duplicates")
N_MEANING = {
    "one-hot": "N becomes an all-zero column of the one-hot input (no base information)",
    "k-mer frequencies": "k-mers that contain N are left out of the frequencies",
    "token ids": "a k-mer (or single base) that contains N becomes the UNK token (id 1)",
}
STRAND_AVERAGED = "probabilities are the mean over the window and its reverse complement, computed inside the program"
STRAND_AS_GIVEN = "the window as given (one strand)"
USAGE = """import numpy as np, torch
program = torch.jit.load("model.pt")  # needs torch and numpy only
codes = np.full(256, 4, dtype=np.uint8)  # every other byte reads as N
codes[np.frombuffer(b"ACGTacgt", np.uint8)] = [0, 1, 2, 3, 0, 1, 2, 3]
sequence = ("ACGT" * {length})[:{length}]  # your window: exactly {length} bp
tokens = torch.from_numpy(codes[np.frombuffer(sequence.encode(), np.uint8)][None])  # [1, {length}] uint8
probabilities = program(tokens)  # [1, {n_classes}]: {classes}
"""


def redact(value):
    """``value`` with every mapping key that names a secret removed, recursively."""
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items() if not SECRET.search(str(k))}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def file_entry(path: Path) -> dict:
    """``{"sha256", "bytes"}`` of one file."""
    return {"sha256": sha256_file(path), "bytes": Path(path).stat().st_size}


def input_encoding(config: dict) -> dict:
    """How the program reads its input: token table, N, strands and (where used) k-mer tokenisation."""
    features = config["features"]
    encoding = {
        "dtype": "uint8",
        "shape": ["N", config["length"]],
        "tokens": {base: i for i, base in enumerate(ALPHABET)},
        "unknown_base": "N (4) stands for any base other than A/C/G/T (IUPAC codes such as R or Y become N; "
        f"lower case is upper-cased first). In this model {N_MEANING[features['kind']]}.",
        "features": features,
        "strand": STRAND_AVERAGED if config["strand_average"] else STRAND_AS_GIVEN,
    }
    if features["kind"] == "token ids":
        stride = "overlapping" if features["overlapping"] else "non-overlapping"
        encoding["tokenisation"] = (
            f"inside the program: {stride} {features['k']}-mers (ids PAD=0 UNK=1 CLS=2 SEP=3 MASK=4, then the "
            f"4**k k-mers in lexicographic order from {FIRST_KMER}), framed by CLS and SEP"
        )
    return encoding


def metrics_summary(metrics: dict) -> dict:
    """Test-split scalars with their 95% bootstrap intervals, per-class metrics and class counts."""
    ci = metrics.get("ci") or {}
    return {
        "split": metrics.get("split", "test"),
        "n": metrics["n"],
        "class_counts": metrics["class_counts"],
        "values": {k: {"value": metrics.get(k), "ci95": ci.get(k)} for k in SCALARS},
        "per_class": metrics["per_class"],
        "bootstrap": metrics.get("bootstrap"),
    }


def calibration_summary(config: dict, run: dict, metrics: dict) -> dict:
    """The temperature the program applies (fitted on the validation split) and the test calibration before/after."""
    scaling = metrics.get("temperature") or {}
    return {
        "temperature": config.get("temperature", 1.0),
        "fitted_on": (run.get("calibration") or {}).get("fitted_on"),
        "validation": {k: (run.get("calibration") or {}).get(k) for k in ("before", "after")},
        "test": {"before": scaling.get("test_before"), "after": scaling.get("test_after")},
    }


def model_card(
    *,
    name: str,
    dataset: str,
    config: dict,
    run: dict,
    metrics: dict,
    manifest: list[dict],
    extraction: dict,
    split: dict,
    dataset_settings: dict,
    files: dict,
    verification: dict,
) -> dict:
    """The card of one exported model (JSON-ready, secrets removed)."""
    classes = config["classes"]
    length = config["length"]
    usage = USAGE.format(length=length, n_classes=len(classes), classes=", ".join(classes))
    card = {
        "format": "genomedl-model-card/1",
        "model": name,
        "arch": config["arch"],
        "dataset": dataset,
        "task": {
            "name": extraction.get("task"),
            "classes": classes,
            "window_length": length,
            "window": dataset_settings.get("window"),
            "options": dataset_settings.get("options"),
        },
        "classes": classes,
        "window_length": length,
        "input": input_encoding(config),
        "output": {
            "dtype": "float32",
            "shape": ["N", len(classes)],
            "meaning": "class probabilities (rows sum to 1), columns in the order of classes",
            "calibration": calibration_summary(config, run, metrics),
        },
        "usage": {
            "python": usage,
            "program": "model.pt (TorchScript; torch.jit.load)",
            "rebuild": "genomedl.stages.export.rebuild(folder) reads config.json and model.safetensors",
        },
        "training_data": {
            "records": [{k: r.get(k) for k in RECORD_KEYS if k in r} for r in manifest],
            "extraction": {k: extraction[k] for k in EXTRACT_KEYS if k in extraction},
            "split": {
                **{k: split[k] for k in SPLIT_KEYS if k in split},
                "leakage_checks_passed": split.get("leakage", {}).get("ok"),
            },
            "dataset_settings": dataset_settings,
        },
        "training": {k: run[k] for k in RUN_KEYS if k in run},
        "metrics": metrics_summary(metrics),
        "files": files,
        "verification": verification,
        "exported_at": utc_now(),
        "exported_with": versions(),
    }
    return redact(card)


def card_markdown(card: dict) -> str:
    """``model_card.md``: the card for people (templates/model_card.md.j2)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("genomedl.packaging", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("model_card.md.j2").render(c=card)
