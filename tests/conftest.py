"""Shared fixtures: real data locations and small helpers for the tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def demo_settings() -> dict:
    with open(REPO / "config" / "config.yaml") as handle:
        return yaml.safe_load(handle)["demo_data"]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (or $GENOMEDL_SHARED_DATA); tests that need it skip when it is absent."""
    path = Path(os.environ.get("GENOMEDL_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path}; set GENOMEDL_SHARED_DATA")
    return path


@pytest.fixture(scope="session")
def biopython_genbank(tmp_path_factory) -> Path:
    """Folder with the demo's real GenBank files, taken from Biopython's sdist (pip download, cached)."""
    from genomedl.demo_data import extract_test_files

    settings = demo_settings()
    out = tmp_path_factory.mktemp("biopython")
    extract_test_files(settings["version"], settings["sha256"], settings["files"],
                       [out / f for f in settings["files"]])
    return out / "GenBank"


def write_synthetic_dataset(folder: Path, n: int = 600, length: int = 100, motif: str = "TGACTCA",
                            positive_fraction: float = 0.5, seed: int = 0) -> dict[str, Path]:
    """Random DNA where class ``pos`` carries ``motif`` near the window centre; 60/20/20 split by group.

    Writes tokens.npy, meta.json, labels.tsv and split.tsv as the encode and split stages would.
    """
    import numpy as np
    import pandas as pd

    from genomedl.tables import write_json, write_tsv

    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, 4, size=(n, length), dtype=np.uint8)
    positive = rng.random(n) < positive_fraction
    code = np.array(["ACGT".index(c) for c in motif], dtype=np.uint8)
    offsets = length // 2 - len(motif) // 2 + rng.integers(-3, 4, size=n)
    for row in np.flatnonzero(positive):
        tokens[row, offsets[row]:offsets[row] + len(motif)] = code
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "tokens.npy", tokens)
    ids = [f"s{i}" for i in range(n)]
    groups = [f"G{i % 50}" for i in range(n)]
    labels = pd.DataFrame({"id": ids, "label": np.where(positive, "pos", "neg"), "accession": groups,
                           "gene": "", "group": groups, "start": 0, "end": length, "strand": "+"})
    write_tsv(labels, folder / "labels.tsv")
    bucket = np.array([int(g[1:]) % 10 for g in groups])
    split = np.where(bucket < 6, "train", np.where(bucket < 8, "val", "test"))
    write_tsv(pd.DataFrame({"id": ids, "split": split}), folder / "split.tsv")
    write_json({"n": n, "length": length, "alphabet": "ACGTN", "dtype": "uint8", "classes": ["neg", "pos"]},
               folder / "meta.json")
    return {name: folder / f"{name}.{ext}" for name, ext in
            (("tokens", "npy"), ("meta", "json"), ("labels", "tsv"), ("split", "tsv"))}


@pytest.fixture
def synthetic_dataset(tmp_path) -> dict[str, Path]:
    return write_synthetic_dataset(tmp_path / "data")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With GENOMEDL_REQUIRE_ALL=1 (set by .ci/run) a skipped test fails: CI must run every test."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("GENOMEDL_REQUIRE_ALL") == "1" and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under GENOMEDL_REQUIRE_ALL=1: {report.longrepr}"


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
    done = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", *args], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=timeout)
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


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """The demo workflow run once, locally, in a temporary copy of the repository."""
    workdir = copy_workflow(tmp_path_factory.mktemp("demo"))
    snakemake(workdir, "--profile", "profiles/local")
    return workdir


def lean_config(workdir: Path) -> Path:
    """Keep only the demo's CNN and k-mer baseline (same settings) in ``workdir``'s config, without
    interpretation or predictions: the fault and cluster tests then exercise every stage in a fraction of the time."""
    path = workdir / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text())
    config["models"] = {"cnn": config["models"]["cnn"]}
    config["interpret"] = {"enabled": False}
    for key in ("pretrain", "gan"):
        config.pop(key, None)
    config["datasets"]["demo"].pop("predict", None)   # tests/test_predict.py covers it
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return workdir
