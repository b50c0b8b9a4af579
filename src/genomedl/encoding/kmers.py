"""k-mer token arrays (k = 3...6) for models that embed k-mers, with a saved vocabulary.

Vocabulary: the special tokens PAD=0 UNK=1 CLS=2 SEP=3 MASK=4, then every k-mer over ACGT in
lexicographic order (id = 5 + base-4 code with A=0 C=1 G=2 T=3). A k-mer containing N is UNK.
Each row is ``[CLS, kmer_1 ... kmer_T, SEP]`` with T = L - k + 1 (overlapping, stride 1) or
T = L // k (non-overlapping, stride k; the last L % k bases are dropped). Ids are uint16 ``[N, T + 2]``.
"""

from __future__ import annotations

import itertools

import numpy as np

from genomedl.errors import GenomedlError

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PAD, UNK, CLS, SEP, MASK = range(len(SPECIALS))
K_RANGE = range(3, 7)


def vocabulary(k: int) -> list[str]:
    """Token strings in id order: the specials, then the 4**k k-mers in lexicographic order."""
    if k not in K_RANGE:
        raise GenomedlError(f"k-mer size {k} is not supported; use k = 3, 4, 5 or 6")
    return list(SPECIALS) + ["".join(p) for p in itertools.product("ACGT", repeat=k)]


def kmer_tokens(tokens: np.ndarray, k: int, overlapping: bool) -> np.ndarray:
    """uint8 base tokens ``[n, L]`` -> uint16 k-mer ids ``[n, T + 2]`` framed by CLS and SEP (see module doc)."""
    vocabulary(k)
    n, length = tokens.shape
    stride = 1 if overlapping else k
    count = (length - k) // stride + 1 if length >= k else 0
    if count < 1:
        raise GenomedlError(f"windows of {length} bp are shorter than k = {k}")
    span = (count - 1) * stride + 1
    code = np.zeros((n, count), dtype=np.int64)
    unknown = np.zeros((n, count), dtype=bool)
    for offset in range(k):  # k <= 6 vectorised passes, each over every k-mer at once
        column = tokens[:, offset : offset + span : stride]
        code = code * 4 + np.minimum(column, 3)
        unknown |= column > 3
    out = np.empty((n, count + 2), dtype=np.uint16)
    out[:, 0], out[:, -1] = CLS, SEP
    out[:, 1:-1] = np.where(unknown, UNK, code + len(SPECIALS))
    return out
