"""Registry model ``bert``: a BERT-style encoder with a classification head, fine-tuned end to end.

``encoder`` is a folder written by the pretrain stage (the project's tokenizer runs on the device),
or any Hugging Face sequence-classification-capable model: a hub id such as
``zhihan1996/DNABERT-2-117M`` or ``InstaDeepAI/nucleotide-transformer-v2-50m-multi-species``, or a
local folder saved with ``save_pretrained``. Published models bring their own tokenizer, applied to
the batch's sequences as text. Like every registry model it maps uint8 tokens ``[B, L]`` to logits.
"""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn as nn

from genomedl.encoding.tokenizer import kmer_ids, load_settings, n_tokens
from genomedl.errors import GenomedlError
from genomedl.models.layers import reverse_complement_tokens
from genomedl.models.registry import register
from genomedl.sequence import ALPHABET

LETTERS = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)


def hub_hint(encoder: str, exc: Exception) -> GenomedlError:
    """One line for a model that cannot be loaded, with the offline recipe."""
    offline = os.environ.get("HF_HUB_OFFLINE") == "1"
    return GenomedlError(
        f"config key models.<name>.encoder: cannot load {encoder!r} ({type(exc).__name__}: "
        f"{str(exc).splitlines()[0] if str(exc) else ''}); give a local folder saved with save_pretrained, or "
        f"download it where there is a network (huggingface-cli download {encoder}) into the HF_HOME that "
        f"this job sees{' (HF_HUB_OFFLINE=1 is set)' if offline else ''}; see README, 'Pretrained models offline'"
    )


def as_text(tokens: torch.Tensor) -> list[str]:
    """uint8 tokens ``[B, L]`` -> B strings over ACGTN (one table lookup, no per-base loop)."""
    rows = LETTERS[tokens.cpu().numpy()]
    return rows.view(f"S{rows.shape[1]}").ravel().astype(str).tolist()


@register("bert")
class BertClassifier(nn.Module):
    """tokens ``[B, L]`` uint8 -> logits ``[B, n_classes]`` through a (pre)trained BERT-style encoder.

    from_scratch: same architecture (the encoder's config), random weights - the control for
    pretraining. trust_remote_code: allow a hub model's own code (DNABERT-2 needs it).
    """

    def __init__(
        self,
        length: int,
        n_classes: int,
        encoder: str,
        from_scratch: bool = False,
        trust_remote_code: bool = False,
        revision: str | None = None,
    ):
        super().__init__()
        from transformers import (
            AutoConfig,
            AutoModelForSequenceClassification,
            AutoTokenizer,
            BertForSequenceClassification,
        )

        self.own = load_settings(encoder) if os.path.isdir(encoder) else None
        options = {"trust_remote_code": trust_remote_code, "revision": revision}
        try:
            if self.own is None:
                self.text_tokenizer = AutoTokenizer.from_pretrained(encoder, **options)
                config = AutoConfig.from_pretrained(encoder, num_labels=n_classes, **options)
                cls = AutoModelForSequenceClassification
            else:
                wanted = n_tokens(length, self.own["k"], self.own["overlapping"])
                config = AutoConfig.from_pretrained(encoder, num_labels=n_classes)
                if wanted > config.max_position_embeddings:
                    raise GenomedlError(
                        f"{encoder}: pretrained on {self.own['length']} bp windows "
                        f"({config.max_position_embeddings} positions) but this dataset has "
                        f"{length} bp windows; pretrain on this dataset"
                    )
                cls = BertForSequenceClassification
            if not from_scratch:
                self.net = cls.from_pretrained(encoder, config=config, **options)
            elif self.own is None:
                self.net = cls.from_config(config, trust_remote_code=trust_remote_code)
            else:
                self.net = cls(config)
        except (OSError, ValueError) as exc:
            raise hub_hint(encoder, exc) from None
        self.cached: dict[str, torch.Tensor] | None = None  # published tokenizers: see pretokenize
        self.cache_row: dict[int, int] = {}

    def pretokenize(self, tokens: np.ndarray) -> None:
        """Run a published model's tokenizer once, before training, on every window of ``tokens`` ``[N, L]`` uint8
        and its reverse complement (padded to one length); ``forward`` then looks rows up by content instead of
        tokenizing text each step. Rows not seen here are tokenized as before. No-op for the project's encoders,
        whose ids are computed on the device."""
        if self.own is not None:
            return
        forward = torch.from_numpy(np.asarray(tokens))
        both = torch.cat([forward, reverse_complement_tokens(forward)])
        encoded = self.text_tokenizer(as_text(both), padding=True, return_tensors="pt")
        self.cached = {"input_ids": encoded["input_ids"].int()}
        if "attention_mask" in encoded:
            self.cached["attention_mask"] = encoded["attention_mask"].to(torch.uint8)
        self.cache_row = {hash(row.tobytes()): i for i, row in enumerate(both.numpy())}

    def _inputs(self, tokens: torch.Tensor) -> dict:
        """Encoder inputs of tokens ``[B, L]``: the project's k-mer ids, or the hub model's own tokenizer."""
        if tokens.is_floating_point():
            raise TypeError("a BERT encoder reads token ids, not one-hot input")
        if self.own is not None:
            return {"input_ids": kmer_ids(tokens, self.own["k"], self.own["overlapping"])}
        if self.cached is not None:
            rows = [self.cache_row.get(hash(row.tobytes()), -1) for row in tokens.cpu().numpy()]
            if min(rows) >= 0:
                index = torch.tensor(rows)
                return {k: v[index].long().to(tokens.device, non_blocking=True) for k, v in self.cached.items()}
        encoded = self.text_tokenizer(as_text(tokens), return_tensors="pt", padding=True)
        return {k: v.to(tokens.device) for k, v in encoded.items() if k in ("input_ids", "attention_mask")}

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.net(**self._inputs(tokens)).logits

    @torch.no_grad()
    def attention_maps(self, tokens: torch.Tensor) -> torch.Tensor:
        """Attention of the last encoder layer ``[B, heads, T, T]`` (T: encoder tokens incl. CLS/SEP)."""
        self.net.set_attn_implementation("eager")  # fused kernels do not return their weights
        try:
            return self.net(**self._inputs(tokens), output_attentions=True).attentions[-1]
        finally:
            self.net.set_attn_implementation("sdpa")
