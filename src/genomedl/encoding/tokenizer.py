"""The project's DNA tokenizer: uint8 bases ``[B, L]`` -> token ids ``[B, T + 2]`` on the device.

Same vocabulary and ids as :mod:`genomedl.encoding.kmers` (PAD=0 UNK=1 CLS=2 SEP=3 MASK=4, then the
4**k k-mers in lexicographic order; a k-mer containing N is UNK), extended to k = 1 (single
nucleotides). :func:`kmer_ids` is the torch counterpart of :func:`genomedl.encoding.kmers.kmer_tokens`,
so models tokenize batches where they run. :func:`save_tokenizer` writes the vocabulary as a
Hugging Face ``BertTokenizer`` (space-separated k-mers, as DNABERT) plus ``genomedl_tokenizer.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from genomedl.encoding.kmers import CLS, MASK, SEP, SPECIALS, UNK, vocabulary
from genomedl.errors import GenomedlError

SETTINGS_FILE = "genomedl_tokenizer.json"
FIRST_KMER = len(SPECIALS)


def vocab(k: int) -> list[str]:
    """Token strings in id order for k = 1 (nucleotides) or 3...6 (k-mers)."""
    return list(SPECIALS) + list("ACGT") if k == 1 else vocabulary(k)


def n_tokens(length: int, k: int, overlapping: bool) -> int:
    """Ids per window of ``length`` bp, CLS and SEP included."""
    stride = 1 if overlapping or k == 1 else k
    count = (length - k) // stride + 1
    if count < 1:
        raise GenomedlError(f"windows of {length} bp are shorter than k = {k}")
    return count + 2


def kmer_ids(tokens: torch.Tensor, k: int, overlapping: bool) -> torch.Tensor:
    """uint8 bases ``[B, L]`` (A=0 C=1 G=2 T=3 N=4) -> int64 ids ``[B, T + 2]`` framed by CLS and SEP."""
    stride = 1 if overlapping or k == 1 else k
    windows = tokens.long().unfold(1, k, stride)  # [B, T, k]
    powers = 4 ** torch.arange(k - 1, -1, -1, device=tokens.device)
    code = (windows.clamp(max=3) * powers).sum(-1) + FIRST_KMER
    ids = torch.where((windows > 3).any(-1), UNK, code)
    edge = ids.new_ones((ids.shape[0], 1))
    return torch.cat([edge * CLS, ids, edge * SEP], dim=1)


def save_tokenizer(folder: Path, k: int, overlapping: bool, length: int) -> None:
    """Write ``vocab.txt`` + Hugging Face tokenizer files and ``genomedl_tokenizer.json`` into ``folder``."""
    from transformers import BertTokenizer

    folder = Path(folder)
    (folder / "vocab.txt").write_text("\n".join(vocab(k)) + "\n")
    hf = BertTokenizer(
        str(folder / "vocab.txt"),
        do_lower_case=False,
        unk_token=SPECIALS[UNK],
        cls_token=SPECIALS[CLS],
        sep_token=SPECIALS[SEP],
        mask_token=SPECIALS[MASK],
        pad_token=SPECIALS[0],
    )
    hf.save_pretrained(str(folder))
    (folder / SETTINGS_FILE).write_text(json.dumps({"k": k, "overlapping": overlapping, "length": length}))


def load_settings(folder: str | Path) -> dict | None:
    """``{"k", "overlapping", "length"}`` of a genomedl-pretrained encoder folder; None for other models."""
    path = Path(folder) / SETTINGS_FILE
    return json.loads(path.read_text()) if path.is_file() else None
