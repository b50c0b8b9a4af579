"""Encode stage: tokens from the indexed FASTA, in labels order, memory-mappable; k-mer ids."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
from tangermeme.utils import one_hot_encode

from genomedl.encoding.kmers import CLS, SEP, UNK, kmer_tokens, vocabulary
from genomedl.encoding.tokens import bytes_to_tokens, load_tokens
from genomedl.errors import GenomedlError
from genomedl.fasta_io import write_windows_fasta
from genomedl.stages.encode import run_encode, run_kmers
from genomedl.tables import read_json, write_tsv

QUIET = {"log": lambda *a: None}


def write_windows(tmp_path, seqs, ids=None):
    ids = ids or [f"w{i}" for i in range(len(seqs))]
    windows = np.frombuffer("".join(seqs).encode(), dtype=np.uint8).reshape(len(seqs), -1)
    write_windows_fasta(ids, windows, tmp_path / "s.fa.gz")
    length = len(seqs[0])
    write_tsv(
        pd.DataFrame(
            {
                "id": ids,
                "label": ["a", "b"] * (len(ids) // 2) + ["a"] * (len(ids) % 2),
                "accession": "x",
                "gene": "",
                "group": "x",
                "start": 0,
                "end": length,
                "strand": "+",
            }
        ),
        tmp_path / "labels.tsv",
    )


def encode(tmp_path, name="t.npy", **kwargs):
    return run_encode(
        tmp_path / "s.fa.gz", tmp_path / "labels.tsv", tmp_path / name, tmp_path / "m.json", **kwargs, **QUIET
    )


def test_tokens_follow_the_alphabet(tmp_path):
    write_windows(tmp_path, ["ACGTN", "ttgca"])
    n, length = encode(tmp_path)
    tokens = load_tokens(tmp_path / "t.npy")
    assert (n, length) == (2, 5)
    assert isinstance(tokens, np.memmap) and tokens.dtype == np.uint8
    assert tokens.tolist() == [[0, 1, 2, 3, 4], [3, 3, 2, 1, 0]]
    assert read_json(tmp_path / "m.json")["classes"] == ["a", "b"]


def test_tokens_agree_with_tangermeme_one_hot():
    rng = np.random.default_rng(0)
    text = "".join(rng.choice(list("ACGTNacgtnRYkm"), 5000))
    tokens = bytes_to_tokens(text.encode())
    expected = one_hot_encode(text.upper(), ignore=list("NRYKM")).numpy()  # [4, L], N and IUPAC all zero
    assert (tokens == 4).tolist() == (expected.sum(0) == 0).tolist()
    called = tokens < 4
    assert (tokens[called] == expected.argmax(0)[called]).all()


def test_invalid_byte_names_its_position():
    with pytest.raises(GenomedlError, match=r"'!' at byte 4"):
        bytes_to_tokens(b"ACG!T", "x.fa")


def test_blocks_do_not_change_the_result(tmp_path):
    rng = np.random.default_rng(1)
    seqs = ["".join(rng.choice(list("ACGTN"), 30)) for _ in range(50)]
    write_windows(tmp_path, seqs, ids=[f"id{'x' * (i % 7)}{i}" for i in range(50)])
    encode(tmp_path, "a.npy", chunk=7)  # blocks smaller than one record
    encode(tmp_path, "b.npy", chunk=1 << 20)
    assert (tmp_path / "a.npy").read_bytes() == (tmp_path / "b.npy").read_bytes()
    expected = np.array([["ACGTN".index(c) for c in s] for s in seqs], dtype=np.uint8)
    assert (load_tokens(tmp_path / "a.npy") == expected).all()


def test_labels_out_of_step_is_an_error(tmp_path):
    write_windows(tmp_path, ["ACGTA", "TTGCA", "GGGGG"])
    labels = pd.read_csv(tmp_path / "labels.tsv", sep="\t")
    write_tsv(labels.iloc[[0, 2, 1]], tmp_path / "labels.tsv")
    with pytest.raises(GenomedlError, match="sequence 2 is out of step"):
        encode(tmp_path)
    assert not (tmp_path / "t.npy").exists()


@pytest.mark.parametrize(
    "text, message", [(">w0\nACG\nTA\n>w1\nTTGCA\n", "window 1 is not"), (">w0\nACGTA\n>w1\nTTG", "window 2 is not")]
)
def test_wrapped_or_truncated_fasta_is_an_error(tmp_path, text, message):
    write_windows(tmp_path, ["ACGTA", "TTGCA"])
    with gzip.open(tmp_path / "s.fa.gz", "wt") as handle:  # gzip is valid BGZF input for reading
        handle.write(text)
    with pytest.raises(GenomedlError, match=message):
        encode(tmp_path)


@pytest.mark.parametrize("k, overlapping", [(3, True), (4, False), (6, True), (5, False)])
def test_kmer_ids_match_the_vocabulary(k, overlapping):
    rng = np.random.default_rng(k)
    seqs = ["".join(rng.choice(list("ACGTN"), 23, p=[0.24] * 4 + [0.04])) for _ in range(6)]
    tokens = np.array([["ACGTN".index(c) for c in s] for s in seqs], dtype=np.uint8)
    ids = kmer_tokens(tokens, k, overlapping)
    vocab = vocabulary(k)
    stride = 1 if overlapping else k
    for seq, row in zip(seqs, ids):
        kmers = [seq[i : i + k] for i in range(0, len(seq) - k + 1, stride)]
        assert row[0] == CLS and row[-1] == SEP and len(row) == len(kmers) + 2
        assert [vocab[i] if i != UNK else "N" for i in row[1:-1]] == [m if "N" not in m else "N" for m in kmers]
    assert ids.dtype == np.uint16 and len(vocab) == 4**k + 5


def test_run_kmers_streams_in_chunks(tmp_path):
    tokens = np.random.default_rng(0).integers(0, 5, size=(37, 40), dtype=np.uint8)
    np.save(tmp_path / "t.npy", tokens)
    run_kmers(tmp_path / "t.npy", tmp_path / "k.npy", tmp_path / "v.json", 4, "overlapping", chunk=5, **QUIET)
    assert (np.load(tmp_path / "k.npy") == kmer_tokens(tokens, 4, True)).all()
    vocab = read_json(tmp_path / "v.json")
    assert vocab["tokens"] == vocabulary(4) and vocab["special_ids"]["mask"] == 4 and vocab["width"] == 39
