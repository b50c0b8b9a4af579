"""Masked-language-model corruption with whole-k-mer (span) masking, vectorised on the device.

With overlapping k-mers every base sits in k consecutive tokens, so masking one token alone leaks
it through its neighbours; as in DNABERT, each selected token starts a span of ``span`` = k
consecutive masked tokens. Non-overlapping k-mers and single nucleotides use ``span`` = 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from genomedl.encoding.kmers import MASK
from genomedl.encoding.tokenizer import FIRST_KMER

IGNORE = -100  # label of positions that carry no loss (Hugging Face convention)


def whole_kmer_mask(
    ids: torch.Tensor,
    span: int,
    rate: float = 0.15,
    vocab_size: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Corrupt ids ``[B, T]``; returns ``(inputs [B, T], labels [B, T], masked [B, T] bool)``.

    About ``rate`` of the k-mer tokens (specials never) are chosen in spans of ``span`` tokens; each
    row gets at least one. Chosen tokens become MASK (80 %), a random k-mer (10 %) or stay (10 %);
    ``labels`` holds the original id there and -100 elsewhere.
    """
    candidate = ids >= FIRST_KMER
    rand = lambda: torch.rand(ids.shape, device=ids.device, generator=generator)  # noqa: E731
    starts = (rand() < rate / span) & candidate
    fallback = (rand() * candidate).argmax(1)  # one start for rows that drew none
    starts[torch.arange(len(ids), device=ids.device), fallback] |= ~starts.any(1)
    # position t is masked when a span started at t - span + 1 ... t
    masked = F.max_pool1d(F.pad(starts.float()[:, None], (span - 1, 0)), span, stride=1)[:, 0].bool() & candidate
    labels = torch.where(masked, ids, IGNORE)
    roll = rand()
    inputs = torch.where(masked & (roll < 0.8), MASK, ids)
    if vocab_size is not None:
        random_ids = torch.randint(FIRST_KMER, vocab_size, ids.shape, device=ids.device, generator=generator)
        inputs = torch.where(masked & (roll >= 0.8) & (roll < 0.9), random_ids, inputs)
    return inputs, labels, masked
