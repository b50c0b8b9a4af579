"""Raw nucleotide bytes -> uint8 tokens (A=0 C=1 G=2 T=3 N=4) by one table lookup in C.

``bytes.translate`` runs a 256-entry lookup over a buffer; invalid bytes map to 255 and are found
with one ``memchr``-speed search. Both run piece by piece on cache-sized slices, so each byte is
read from main memory once and written once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from genomedl.errors import GenomedlError
from genomedl.sequence import TOKEN_OF_BYTE

INVALID = 255
TABLE = TOKEN_OF_BYTE.tobytes()  # upper and lower case ACGTN, other IUPAC codes -> N, the rest -> 255
PIECE = 1 << 16  # bytes per slice: fits in L2 cache


def bytes_to_tokens(raw: bytes | np.ndarray, origin: str = "sequence", out: np.ndarray | None = None) -> np.ndarray:
    """Translate ASCII nucleotides (bytes or a C-contiguous uint8 array) to flat uint8 tokens ``[len(raw)]``.

    Writes into ``out`` (a contiguous uint8 array of the same size) when given. Raises GenomedlError
    naming ``origin`` and the 1-based offset of the first invalid byte.
    """
    view = memoryview(raw).cast("B")
    out = np.empty(len(view), dtype=np.uint8) if out is None else out.reshape(-1)
    for start in range(0, len(view), PIECE):
        piece = bytes(view[start : start + PIECE])
        translated = piece.translate(TABLE)
        bad = translated.find(INVALID)
        if bad >= 0:
            raise GenomedlError(
                f"{origin}: invalid character {chr(piece[bad])!r} at byte {start + bad + 1}; "
                "sequences may contain only IUPAC nucleotide codes"
            )
        out[start : start + len(piece)] = np.frombuffer(translated, dtype=np.uint8)
    return out


def load_tokens(path: Path) -> np.ndarray:
    """Memory-map ``tokens.npy`` read-only: ``[N, L]`` uint8."""
    return np.load(path, mmap_mode="r")
