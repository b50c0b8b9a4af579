"""Encode stage: windows from the indexed FASTA to a memory-mappable uint8 token array.

``tokens.npy`` is ``[N, L]`` uint8 with A=0 C=1 G=2 T=3 N=4, rows in the order of ``labels.tsv``.
Sequences are streamed in chunks, so memory is bounded by the chunk, not by N.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pysam

from .atomic import atomic_path
from .errors import GenomedlError
from .sequence import ALPHABET, encode_tokens
from .tables import read_tsv, write_json


def _chunks(fasta: Path, ids: list[str], chunk: int):
    """Yield ``[n, L]`` ASCII blocks of the FASTA, checking ids against ``ids`` in order."""
    block, expected = [], iter(ids)
    with pysam.FastxFile(str(fasta)) as reader:
        for number, entry in enumerate(reader, start=1):
            if entry.name != next(expected, None):
                raise GenomedlError(f"{fasta}: sequence {number} ({entry.name}) is out of step with the labels "
                                    "file; rerun the extract stage")
            block.append(entry.sequence.encode())
            if len(block) == chunk:
                yield block
                block = []
    if block:
        yield block


def run_encode(fasta: Path, labels_path: Path, out_tokens: Path, out_meta: Path, chunk: int = 65536,
               log=print) -> tuple[int, int]:
    """Encode every window; returns (N, L). All windows must have one length."""
    labels = read_tsv(labels_path)
    ids = labels["id"].tolist()
    length = int(labels["end"].iloc[0] - labels["start"].iloc[0])
    with atomic_path(out_tokens) as tmp:
        tokens = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(ids), length))
        row = 0
        for block in _chunks(fasta, ids, chunk):
            joined = b"".join(block)
            if len(joined) != len(block) * length:
                raise GenomedlError(f"{fasta}: windows near row {row + 1} are not all {length} bp; "
                                    "rerun the extract stage")
            ascii_block = np.frombuffer(joined, dtype=np.uint8).reshape(len(block), length)
            tokens[row:row + len(block)] = encode_tokens(ascii_block)
            row += len(block)
        if row != len(ids):
            raise GenomedlError(f"{fasta}: {row} sequences for {len(ids)} labels; rerun the extract stage")
        tokens.flush()
        del tokens
    classes = sorted(set(labels["label"]))
    write_json({"n": len(ids), "length": length, "alphabet": ALPHABET, "dtype": "uint8",
                "classes": classes}, out_meta)
    log(f"encode: {len(ids)} x {length} tokens written to {out_tokens}")
    return len(ids), length


def load_tokens(path: Path) -> np.ndarray:
    """Memory-map ``tokens.npy`` read-only: ``[N, L]`` uint8."""
    return np.load(path, mmap_mode="r")
