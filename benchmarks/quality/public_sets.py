"""Public labelled benchmarks from Debian packages, converted to genomedl's labelled CSV (sequence,label,id,split).

- StatLog DNA (UCI primate splice junctions), ``r-cran-mlbench`` ``data/DNA.rda``: 3,186 x 180 indicator
  columns = 60 bp x 3 bits per base. The encoding, read off the data: A = 100, C = 010, G = 001, T = 000
  (only these four triplets occur; with it the EI class shows the donor GT at positions 31-32 and the IE
  class the acceptor AG at 29-30, as the UCI description places the junction at the middle). Standard
  split: rows 1-2,000 train (the last 15 % of them, stratified, as validation), rows 2,001-3,186 test.
- E. coli promoter gene sequences (UCI), ``r-cran-kernlab`` ``data/promotergene.rda``: 106 x 57 bp, +/-.
- DeepBind's ENCODE ChIP-seq sets (CTCFL, USF1, ARID3A) in ../shared/data/deepbind_tfbs: 101-bp peak windows
  against dinucleotide shuffles, DeepBind's own train and test files, used as they are.

Everything is cached under ~/.cache/genomedl/quality (the .deb files, their data, the R reader).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

CACHE = Path.home() / ".cache" / "genomedl" / "quality"
SHARED_DATA = Path(os.environ.get("GENOMEDL_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
DEEPBIND = ("CTCFL", "USF1", "ARID3A")  # ../shared/data/deepbind_tfbs: ENCODE ChIP-seq as DeepBind published them
PACKAGES = {"mlbench": "r-cran-mlbench", "kernlab": "r-cran-kernlab"}
STATLOG_CODE = {(1, 0, 0): "A", (0, 1, 0): "C", (0, 0, 1): "G", (0, 0, 0): "T"}
STATLOG_TRAIN = 2000


def _run(*argv: str, cwd: Path | None = None) -> None:
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True, text=True)


def r_data(package: str, name: str) -> pd.DataFrame:
    """Data frame ``name`` of the Debian R package ``package`` (apt-get download + dpkg -x, read with rdata)."""
    debs, tree = CACHE / "debs", CACHE / "tree"
    rda = tree / "usr" / "lib" / "R" / "site-library" / package / "data" / f"{name}.rda"
    if not rda.exists():
        debs.mkdir(parents=True, exist_ok=True)
        if not list(debs.glob(f"{PACKAGES[package]}_*.deb")):
            try:
                _run("apt-get", "download", PACKAGES[package], cwd=debs)
            except subprocess.CalledProcessError:
                _run("apt-get", "update")
                _run("apt-get", "download", PACKAGES[package], cwd=debs)
        _run("dpkg", "-x", str(next(debs.glob(f"{PACKAGES[package]}_*.deb"))), str(tree))
    return _read_rda(rda)[name]


def _read_rda(path: Path) -> dict:
    """Read an .rda file with the PyPI package rdata, installed into the cache on first use (not the venv)."""
    library = CACHE / "pylib"
    if str(library) not in sys.path:
        sys.path.append(str(library))  # after the venv's own packages: they keep precedence
    try:
        import rdata
    except ImportError:
        _run(sys.executable, "-m", "pip", "install", "--quiet", "--target", str(library), "rdata==1.1.0")
        importlib.invalidate_caches()
        import rdata
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Unknown encoding")
        return rdata.read_rda(str(path))


def _validation(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask: a stratified ``fraction`` of the rows."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    _, held = train_test_split(index, test_size=fraction, stratify=labels, random_state=seed)
    mask = np.zeros(len(labels), bool)
    mask[held] = True
    return mask


def write_if_changed(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as CSV at ``path``, left untouched when it already holds the same text (snakemake, which reruns on
    newer inputs, then reruns nothing for an unchanged dataset)."""
    text = frame.to_csv(index=False)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def statlog_dna(out: Path, seed: int) -> Path:
    """StatLog DNA as ``out``/statlog_dna.csv with the standard split; returns the path."""
    frame = r_data("mlbench", "DNA")
    bits = frame.iloc[:, :180].astype(int).to_numpy().reshape(len(frame), 60, 3)
    sequences = ["".join(STATLOG_CODE[tuple(t)] for t in row) for row in bits]
    labels = frame["Class"].astype(str).str.upper().to_numpy()
    split = np.where(np.arange(len(frame)) < STATLOG_TRAIN, "train", "test").astype(object)
    train = np.flatnonzero(split == "train")
    split[train[_validation(labels[train], 0.15, seed)]] = "val"
    path = out / "statlog_dna.csv"
    ids = [f"dna{i + 1}" for i in range(len(frame))]
    write_if_changed(pd.DataFrame({"id": ids, "sequence": sequences, "label": labels, "split": split}), path)
    return path


def promoters(out: Path, folds: int, seed: int) -> list[Path]:
    """E. coli promoters as one CSV per fold of stratified ``folds``-fold cross-validation (fold f: test;
    val: a stratified 15 % of the rest); returns the paths."""
    from sklearn.model_selection import StratifiedKFold

    frame = r_data("kernlab", "promotergene")
    sequences = frame.iloc[:, 1:].astype(str).agg("".join, axis=1).str.upper().to_numpy()
    labels = np.where(frame["Class"].astype(str) == "+", "promoter", "non_promoter")
    ids = [f"promoter{i + 1}" for i in range(len(frame))]
    paths = []
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for fold, (rest, test) in enumerate(splitter.split(sequences, labels)):
        split = np.full(len(frame), "train", dtype=object)
        split[test] = "test"
        split[rest[_validation(labels[rest], 0.15, seed + fold)]] = "val"
        path = out / f"promoters_fold{fold}.csv"
        write_if_changed(pd.DataFrame({"id": ids, "sequence": sequences, "label": labels, "split": split}), path)
        paths.append(path)
    return paths


def deepbind(factor: str) -> list[Path]:
    """The DeepBind ENCODE set of ``factor`` as published: its train.csv and test.csv (columns sequence,label; the
    files' names give the split), read where ../shared/data keeps them (``GENOMEDL_SHARED_DATA``)."""
    folder = SHARED_DATA / "deepbind_tfbs" / factor
    paths = [folder / "train.csv", folder / "test.csv"]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        sys.exit(f"{missing[0]}: not found; set GENOMEDL_SHARED_DATA to the folder that holds deepbind_tfbs/")
    return paths
