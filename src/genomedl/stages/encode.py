"""Encode stage: windows from the indexed FASTA to a memory-mappable uint8 token array.

``tokens.npy`` is ``[N, L]`` uint8 with A=0 C=1 G=2 T=3 N=4, rows in the order of ``labels.tsv``.
The FASTA is streamed in blocks (:mod:`.fasta`) and translated by one table lookup (:mod:`.tokens`),
so memory is bounded by a block, not by N. k-mer token arrays for models that ask for them: :mod:`.kmers`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genomedl.atomic import atomic_path
from genomedl.encoding.fasta import iter_windows
from genomedl.encoding.kmers import SPECIALS, kmer_tokens, vocabulary
from genomedl.encoding.tokens import bytes_to_tokens
from genomedl.errors import GenomedlError
from genomedl.sequence import ALPHABET
from genomedl.tables import natural_sorted, read_tsv, write_json


def _check_names(fasta: Path, block, names: bytes, offsets: np.ndarray, row: int) -> None:
    """Raise unless the block's header names equal the label ids of rows ``row...``."""
    n = len(block.windows)
    expected_lengths = np.diff(offsets[row : row + n + 1])
    expected = names[offsets[row] : offsets[row + n]]
    got = block.names.tobytes()
    if np.array_equal(block.name_lengths, expected_lengths) and got == expected:
        return
    if not np.array_equal(block.name_lengths, expected_lengths):
        first = int(np.argmax(block.name_lengths != expected_lengths))
    else:
        differing = np.frombuffer(got, np.uint8) != np.frombuffer(expected, np.uint8)
        first = int(np.searchsorted(np.cumsum(expected_lengths), int(np.argmax(differing)), side="right"))
    raise GenomedlError(
        f"{fasta}: sequence {row + first + 1} is out of step with the labels file; rerun the extract stage"
    )


def run_encode(fasta: Path, labels: Path, tokens: Path, meta: Path, chunk: int = 1 << 24, log=print) -> tuple[int, int]:
    """Encode every window of ``fasta`` into ``tokens`` (uint8 ``[N, L]``, .npy) and ``meta`` (JSON);
    ``chunk``: bytes of FASTA text per block. Returns (N, L).

    All windows must have one length; sequence names must follow ``labels`` (labels.tsv) row by row.
    """
    labels_path, out_tokens, out_meta = labels, tokens, meta
    labels = read_tsv(labels_path, dtype={"id": str}, usecols=["id", "label", "start", "end"])
    ids = labels["id"].to_numpy(dtype=object)
    length = int(labels["end"].iloc[0] - labels["start"].iloc[0])
    names = "".join(ids).encode()
    sizes = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    if len(names) != sizes.sum():  # non-ASCII ids: count bytes, not characters
        sizes = np.fromiter((len(i.encode()) for i in ids), dtype=np.int64, count=len(ids))
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    with atomic_path(out_tokens) as tmp:
        tokens = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(ids), length))
        row = 0
        for block in iter_windows(fasta, length, chunk):
            n = len(block.windows)
            if row + n > len(ids):
                raise GenomedlError(f"{fasta}: more sequences than the {len(ids)} labels; rerun the extract stage")
            _check_names(fasta, block, names, offsets, row)
            bytes_to_tokens(block.windows, f"{fasta} windows {row + 1}-{row + n}", out=tokens[row : row + n])
            row += n
        if row != len(ids):
            raise GenomedlError(f"{fasta}: {row} sequences for {len(ids)} labels; rerun the extract stage")
        tokens.flush()
        del tokens
    classes = natural_sorted(labels["label"].unique())
    write_json({"n": len(ids), "length": length, "alphabet": ALPHABET, "dtype": "uint8", "classes": classes}, out_meta)
    log(f"encode: {len(ids)} x {length} tokens written to {out_tokens}")
    return len(ids), length


def run_kmers(
    tokens: Path, out: Path, vocab: Path, k: int, stride: str, chunk: int = 65536, log=print
) -> tuple[int, int]:
    """Write the k-mer ids of every row of ``tokens`` (tokens.npy, streamed ``chunk`` rows at a time) to ``out``
    (.npy) and the vocabulary to ``vocab`` (JSON); ``stride``: one of :data:`~genomedl.choices.KMER_STRIDES`."""
    out_ids, out_vocab, overlapping = out, vocab, stride == "overlapping"
    tokens = np.load(tokens, mmap_mode="r")
    n, length = tokens.shape
    width = kmer_tokens(np.zeros((1, length), dtype=np.uint8), k, overlapping).shape[1]
    with atomic_path(out_ids) as tmp:
        ids = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint16, shape=(n, width))
        for start in range(0, n, chunk):
            ids[start : start + chunk] = kmer_tokens(np.asarray(tokens[start : start + chunk]), k, overlapping)
        ids.flush()
        del ids
    specials = dict(zip(("pad", "unk", "cls", "sep", "mask"), range(len(SPECIALS))))
    write_json(
        {
            "k": k,
            "overlapping": overlapping,
            "stride": 1 if overlapping else k,
            "length": length,
            "width": width,
            "dtype": "uint16",
            "special_ids": specials,
            "tokens": vocabulary(k),
        },
        out_vocab,
    )
    log(f"kmers: {n} x {width} {k}-mer ids written to {out_ids}")
    return n, width
