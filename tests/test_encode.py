"""Encode stage: tokens from the indexed FASTA, in labels order, memory-mappable."""

from __future__ import annotations

import numpy as np
import pytest

from genomedl.encode import load_tokens, run_encode
from genomedl.errors import GenomedlError
from genomedl.extract import write_indexed_fasta
from genomedl.tables import read_json, write_tsv
import pandas as pd


def write_windows(tmp_path, seqs):
    ids = [f"w{i}" for i in range(len(seqs))]
    windows = np.frombuffer("".join(seqs).encode(), dtype=np.uint8).reshape(len(seqs), -1)
    write_indexed_fasta(ids, windows, tmp_path / "s.fa.gz")
    length = len(seqs[0])
    write_tsv(pd.DataFrame({"id": ids, "label": ["a", "b"] * (len(ids) // 2), "accession": "x", "gene": "",
                            "group": "x", "start": 0, "end": length, "strand": "+"}), tmp_path / "labels.tsv")


def test_tokens_follow_the_alphabet(tmp_path):
    write_windows(tmp_path, ["ACGTN", "TTGCA"])
    n, length = run_encode(tmp_path / "s.fa.gz", tmp_path / "labels.tsv", tmp_path / "t.npy", tmp_path / "m.json",
                           log=lambda *a: None)
    tokens = load_tokens(tmp_path / "t.npy")
    assert (n, length) == (2, 5)
    assert isinstance(tokens, np.memmap) and tokens.dtype == np.uint8
    assert tokens.tolist() == [[0, 1, 2, 3, 4], [3, 3, 2, 1, 0]]
    assert read_json(tmp_path / "m.json")["classes"] == ["a", "b"]


def test_chunks_do_not_change_the_result(tmp_path):
    rng = np.random.default_rng(1)
    seqs = ["".join(rng.choice(list("ACGTN"), 30)) for _ in range(10)]
    write_windows(tmp_path, seqs)
    run_encode(tmp_path / "s.fa.gz", tmp_path / "labels.tsv", tmp_path / "a.npy", tmp_path / "m.json",
               chunk=3, log=lambda *a: None)
    run_encode(tmp_path / "s.fa.gz", tmp_path / "labels.tsv", tmp_path / "b.npy", tmp_path / "m.json",
               chunk=1000, log=lambda *a: None)
    assert (tmp_path / "a.npy").read_bytes() == (tmp_path / "b.npy").read_bytes()
    expected = np.array([["ACGTN".index(c) for c in s] for s in seqs], dtype=np.uint8)
    assert (load_tokens(tmp_path / "a.npy") == expected).all()


def test_labels_out_of_step_is_an_error(tmp_path):
    write_windows(tmp_path, ["ACGTA", "TTGCA"])
    labels = pd.read_csv(tmp_path / "labels.tsv", sep="\t")
    write_tsv(labels.iloc[::-1], tmp_path / "labels.tsv")
    with pytest.raises(GenomedlError, match="out of step"):
        run_encode(tmp_path / "s.fa.gz", tmp_path / "labels.tsv", tmp_path / "t.npy", tmp_path / "m.json",
                   log=lambda *a: None)
    assert not (tmp_path / "t.npy").exists()
