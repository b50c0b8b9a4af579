"""Same config and seed, two fresh directories: byte-identical data, splits, baseline and CPU training.

Each stage runs through the CLI, as the workflow's rules call it, on real RefSeqGene records. The
kill-anywhere test (tests/test_kill_anywhere.py) makes the same comparison for the whole workflow.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from genomedl.cli import main
from genomedl.tables import read_json, read_tsv

RECORDS = ["NG_012337.1.gb", "NG_009105.1.gb", "NG_008939.1.gb", "NG_012772.1.gb"]
CNN = {
    "arch": "cnn",
    "epochs": 2,
    "batch_size": 64,
    "filters": [16, 16],
    "kernels": [9, 5],
    "pools": [4, 4],
    "hidden": 16,
    "patience": 3,
}
BYTE_IDENTICAL = [
    "records.gb.gz",
    "manifest.tsv",
    "sequences.fa.gz",
    "sequences.fa.gz.fai",
    "labels.tsv",
    "tokens.npy",
    "meta.json",
    "split.tsv",
    "split_summary.json",
    "kmer/model.npz",
    "kmer_eval/predictions.tsv",
    "kmer_eval/metrics.json",
    "cnn/model.ckpt",
    "cnn_eval/predictions.tsv",
    "cnn_eval/metrics.json",
]


def run_all(out: Path, sources: list[Path], seed: int = 7) -> None:
    """fetch (local) -> extract -> encode -> split -> k-mer baseline + CNN -> evaluate, in ``out``."""

    def stage(*args) -> None:
        assert main([*map(str, args)]) == 0, args

    d = out
    stage(
        "fetch",
        "--settings",
        json.dumps({"source": {"local": [str(s) for s in sources]}}),
        "--records",
        d / "records.gb.gz",
        "--manifest",
        d / "manifest.tsv",
        "--genes",
        d / "genes.json",
    )
    window = {"length": 200, "mode": "tiled", "stride": 150}
    stage(
        "extract",
        "--records",
        d / "records.gb.gz",
        "--seed",
        seed,
        "--settings",
        json.dumps({"task": "exon_intron", "window": window}),
        "--fasta",
        d / "sequences.fa.gz",
        "--labels",
        d / "labels.tsv",
        "--summary",
        d / "extract_summary.json",
    )
    stage(
        "encode",
        "--fasta",
        d / "sequences.fa.gz",
        "--labels",
        d / "labels.tsv",
        "--tokens",
        d / "tokens.npy",
        "--meta",
        d / "meta.json",
    )
    stage(
        "split",
        "--labels",
        d / "labels.tsv",
        "--tokens",
        d / "tokens.npy",
        "--split",
        d / "split.tsv",
        "--summary",
        d / "split_summary.json",
        "--seed",
        seed,
        "--settings",
        json.dumps({"val": 0.2, "test": 0.2, "group_by": "record"}),
    )
    data = [
        "--tokens",
        d / "tokens.npy",
        "--meta",
        d / "meta.json",
        "--labels",
        d / "labels.tsv",
        "--split",
        d / "split.tsv",
    ]
    for command, name, settings in (("baseline", "kmer", {"k": [2, 3]}), ("train", "cnn", CNN)):
        stage(command, *data, "--out-dir", d / name, "--name", name, "--settings", json.dumps(settings), "--seed", seed)
        stage(
            "evaluate",
            "--model-dir",
            d / name,
            *data,
            "--out-dir",
            d / f"{name}_eval",
            "--bootstrap",
            50,
            "--seed",
            seed,
        )


def test_two_fresh_directories_give_identical_results(tmp_path, shared_data):
    sources = [shared_data / "genbank" / name for name in RECORDS]
    first, second = tmp_path / "first", tmp_path / "second"
    run_all(first, sources)
    run_all(second, sources)

    for name in BYTE_IDENTICAL:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    # training metrics per epoch are identical; only the wall-clock column differs
    histories = [read_tsv(d / "cnn/history.tsv").drop(columns="seconds") for d in (first, second)]
    pd.testing.assert_frame_equal(*histories, check_exact=True)
    runs = [read_json(d / "cnn/run.json") for d in (first, second)]
    for key in ("config_hash", "seed", "best_epoch", "best_score", "fit_verdict", "versions", "git_commit"):
        assert runs[0][key] == runs[1][key], key
    assert runs[0]["hardware"]["device"] == "cpu" and runs[0]["started_at"] <= runs[0]["finished_at"]
    # the comparison is not vacuous: the data is real and training moved the weights
    labels = read_tsv(first / "labels.tsv")
    assert len(labels) > 500 and set(labels["label"]) == {"exon", "intron"}
    assert len(histories[0]) == 2 and histories[0]["train_loss"].iloc[1] != histories[0]["train_loss"].iloc[0]
