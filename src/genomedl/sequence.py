"""Vectorised nucleotide helpers over uint8 byte arrays (no per-base Python loops)."""

from __future__ import annotations

import numpy as np

from genomedl.errors import GenomedlError

ALPHABET = "ACGTN"
_IUPAC_OTHER = b"RYSWKMBDHVU"

# byte -> token (A=0 C=1 G=2 T=3 N=4); 255 marks bytes that are not nucleotide codes
TOKEN_OF_BYTE = np.full(256, 255, dtype=np.uint8)
for _i, _base in enumerate(b"ACGTN"):
    TOKEN_OF_BYTE[_base] = _i
    TOKEN_OF_BYTE[ord(chr(_base).lower())] = _i
for _code in _IUPAC_OTHER:
    TOKEN_OF_BYTE[_code] = 4
    TOKEN_OF_BYTE[ord(chr(_code).lower())] = 4

_COMPLEMENT = np.arange(256, dtype=np.uint8)
for _a, _b in zip(b"ACGTNacgtn", b"TGCANtgcan"):
    _COMPLEMENT[_a] = _b


def normalise(seq: bytes, origin: str) -> tuple[np.ndarray, dict]:
    """Upper-case ``seq`` and map IUPAC codes other than ACGTN to N.

    Returns (uint8 array of ASCII ``ACGTN``, counts ``{"lowercase": n, "iupac_to_n": n}``).
    Raises GenomedlError naming ``origin`` on any other character.
    """
    raw = np.frombuffer(seq, dtype=np.uint8)
    tokens = TOKEN_OF_BYTE[raw]
    position = first_invalid(tokens)
    if position >= 0:
        raise GenomedlError(
            f"{origin}: invalid character {chr(raw[position])!r} at position {position + 1}; "
            "sequences may contain only IUPAC nucleotide codes"
        )
    lowercase = int(((raw >= ord("a")) & (raw <= ord("z"))).sum())
    upper = raw & np.uint8(0xDF)  # ASCII letters to upper case
    iupac = ~np.isin(upper, np.frombuffer(b"ACGTN", dtype=np.uint8))
    out = np.frombuffer(b"ACGTN", dtype=np.uint8)[tokens]
    return out, {"lowercase": lowercase, "iupac_to_n": int(iupac.sum())}


def first_invalid(tokens: np.ndarray) -> int:
    """Index of the first byte of ``TOKEN_OF_BYTE[raw]`` that is no nucleotide code, or -1."""
    bad = tokens == 255
    return int(np.argmax(bad)) if bad.any() else -1


def reverse_complement(windows: np.ndarray) -> np.ndarray:
    """Reverse complement ASCII windows ``[n, L]`` (uint8) along the last axis."""
    return _COMPLEMENT[windows][..., ::-1]
