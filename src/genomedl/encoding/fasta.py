"""Stream the extract stage's FASTA (one ``>id`` line and one sequence line per window) in blocks.

Each block of decompressed bytes is parsed with numpy: newline positions give the header and sequence
lines, a boolean mask keeps the sequence bytes, so no Python code runs per record or per base.
Memory is bounded by the block size, not by the number of windows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np

from genomedl.errors import GenomedlError

NEWLINE, GT = 10, 62


class Block(NamedTuple):
    names: np.ndarray  # uint8, the header names of the block concatenated (without '>')
    name_lengths: np.ndarray  # int64 [n], bytes per name
    windows: np.ndarray  # uint8 [n, length], ASCII sequences


def _segments(name_lengths: np.ndarray, length: int) -> np.ndarray:
    """Byte classes of ``n`` records laid out as '>' name '\\n' sequence '\\n': 0 markup, 1 name, 2 sequence."""
    counts = np.ones((len(name_lengths), 5), dtype=np.int64)
    counts[:, 1], counts[:, 3] = name_lengths, length
    pattern = np.tile(np.array([0, 1, 0, 2, 0], dtype=np.uint8), len(name_lengths))
    return np.repeat(pattern, counts.reshape(-1))


def _parse(buf: np.ndarray, length: int, origin: str, first_row: int) -> tuple[int, Block]:
    """Parse the complete records at the start of ``buf``; returns (bytes consumed, the block)."""
    newlines = np.flatnonzero(buf == NEWLINE)
    n = len(newlines) // 2
    if n == 0:
        return 0, Block(buf[:0], np.zeros(0, dtype=np.int64), buf[:0].reshape(0, length))
    newlines = newlines[: 2 * n]
    line_starts = np.concatenate(([0], newlines[:-1] + 1))
    head_starts, head_ends = line_starts[0::2], newlines[0::2]
    seq_starts, seq_ends = line_starts[1::2], newlines[1::2]
    not_header = buf[head_starts] != GT
    wrong = (seq_ends - seq_starts) != length
    if not_header.any() or wrong.any():
        row = first_row + int(np.argmax(not_header | wrong)) + 1
        raise GenomedlError(
            f"{origin}: window {row} is not one '>id' line and one {length}-bp sequence line; rerun the extract stage"
        )
    consumed = int(newlines[-1]) + 1
    name_lengths = head_ends - head_starts - 1
    classes = _segments(name_lengths, length)
    body = buf[:consumed]
    return consumed, Block(body[classes == 1], name_lengths, body[classes == 2].reshape(n, length))


def iter_windows(fasta: Path, length: int, block_bytes: int = 1 << 24) -> Iterator[Block]:
    """Yield the windows of ``fasta`` block by block, reading ``block_bytes`` of FASTA text at a time."""
    import pysam  # only here: training (genomedl.data.datasets imports this package) runs on GPU nodes without pysam

    tail = b""
    row = 0
    with pysam.BGZFile(str(fasta), "rb") as handle:
        while True:
            chunk = handle.read(block_bytes)
            if not chunk and tail and not tail.endswith(b"\n"):
                chunk = b"\n"  # a last line without its newline
            buf = np.frombuffer(tail + chunk, dtype=np.uint8)
            consumed, block = _parse(buf, length, str(fasta), row)
            if len(block.windows):
                yield block
            row += len(block.windows)
            tail = buf[consumed:].tobytes()
            if not chunk:
                break
    if tail.strip():
        raise GenomedlError(f"{fasta}: truncated after window {row}; rerun the extract stage")
