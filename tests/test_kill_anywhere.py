"""Kill anywhere: SIGKILL the demo workflow while each stage runs, rerun, and get the same outputs.

One run is killed at seven points in turn (fetch, extract, encode, split, train, evaluate, report);
each rerun continues from what the last one left. The final outputs must be byte-identical to an
uninterrupted run (CPU training: identical metrics), and no partial file may be taken as complete.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genomedl.tables import read_json, read_tsv
from helpers import copy_workflow, lean_config, snakemake, summary

pytestmark = pytest.mark.workflow
KILL_POINTS = ["fetch", "extract", "encode", "split", "train", "evaluate", "report"]
IDENTICAL = [
    "raw/records.gb.gz",
    "sequences.fa.gz",
    "sequences.fa.gz.fai",
    "labels.tsv",
    "extract_summary.json",
    "encoded/tokens.npy",
    "split.tsv",
    "split_summary.json",
    "models/kmer_logreg/model.npz",
    "eval/kmer_logreg/predictions.tsv",
    "eval/cnn/predictions.tsv",
]


def start(workdir: Path) -> subprocess.Popen:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--profile", "profiles/local", "--cores", "2"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def kill_during(workdir: Path, rule: str) -> bool:
    """Run until a job of ``rule`` has started, then SIGKILL snakemake and its jobs. False if it never ran."""
    process = start(workdir)
    seen = False
    for line in process.stdout:
        if line.strip() in (f"rule {rule}:", f"localrule {rule}:"):
            seen = True
        if seen and line.strip().startswith("Shell command:"):
            time.sleep(0.3)  # let the job begin writing
            os.killpg(process.pid, signal.SIGKILL)
            break
    process.wait()
    process.stdout.close()
    snakemake(workdir, "--unlock")
    return seen


def test_kill_at_seven_points_then_identical_outputs(tmp_path, demo_run):
    workdir = lean_config(copy_workflow(tmp_path))
    killed = [rule for rule in KILL_POINTS if kill_during(workdir, rule)]
    assert killed == KILL_POINTS
    snakemake(workdir, "--profile", "profiles/local")
    ours, reference = workdir / "results" / "demo", demo_run / "results" / "demo"
    for name in IDENTICAL:
        assert (ours / name).read_bytes() == (reference / name).read_bytes(), name
    # the manifest too, but for retrieved_at: each checkout obtained its demo files at its own time
    manifests = [read_tsv(d / "raw/manifest.tsv", dtype=str).drop(columns="retrieved_at") for d in (ours, reference)]
    assert manifests[0].equals(manifests[1])
    for model in ("cnn", "kmer_logreg"):
        a, b = read_json(ours / f"eval/{model}/metrics.json"), read_json(reference / f"eval/{model}/metrics.json")
        assert {k: a[k] for k in ("auroc", "auprc", "mcc", "f1")} == {k: b[k] for k in ("auroc", "auprc", "mcc", "f1")}
    # nothing half-written survives: no temporary file of atomic writes, no stale checkpoint folder
    assert sorted((workdir / "results").rglob("*.tmp")) == []
    assert sorted((workdir / "results").rglob("checkpoints")) == []
    assert {row["status"] for row in summary(workdir).values()} == {"ok"}
