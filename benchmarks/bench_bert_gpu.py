"""BERT-base masked-LM pretraining throughput on 512 tokens: genomedl's path vs a plain PyTorch loop.

genomedl: uint8 windows of 515 bp -> overlapping 6-mer ids on the device (512 with CLS/SEP) -> whole-6-mer
span masking -> Hugging Face ``BertForMaskedLM`` (SDPA attention) -> AdamW, bf16 autocast; eager and
``torch.compile``d. Plain PyTorch: ``nn.TransformerEncoder`` of the same size (12 x 768, 12 heads, 3072)
with token + position embeddings and a tied LM head, random 15 % masking, same optimiser and precision.
Both take the same batches; sequences/s over timed steps after warm-up. Needs a CUDA GPU.

    .venv/bin/python benchmarks/bench_bert_gpu.py [--batch 32] [--steps 30] [--no-append]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from genomedl.lm.masking import whole_kmer_mask
from genomedl.lm.pretrain import bert_config, mlm_step
from genomedl.lm.tokenizer import kmer_ids, vocab

K, LENGTH = 6, 515  # 510 overlapping 6-mers + CLS + SEP = 512 tokens
BASE = {
    "k": K,
    "overlapping": True,
    "hidden": 768,
    "layers": 12,
    "heads": 12,
    "intermediate": 3072,
    "dropout": 0.1,
    "attention": "sdpa",
}


class PlainBert(nn.Module):
    """BERT-base-sized encoder from torch.nn: ids ``[B, T]`` -> vocabulary logits ``[B, T, V]``."""

    def __init__(self, vocab_size: int, tokens: int):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, 768)
        nn.init.normal_(self.embed.weight, std=0.02)  # BERT's initialisation
        self.position = nn.Parameter(torch.zeros(tokens, 768))
        layer = nn.TransformerEncoderLayer(768, 12, 3072, dropout=0.1, activation="gelu", batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 12, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(768)

    def forward(self, ids):
        hidden = self.norm(self.encoder(self.embed(ids) + self.position))
        return hidden @ self.embed.weight.T


def plain_step(model, ids, vocab_size):
    inputs, labels, _ = whole_kmer_mask(ids, 1, 0.15, vocab_size)
    logits = model(inputs)
    return F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=-100)


def measure(name, model, step, batches, warmup: int) -> dict:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    times = []
    for i, tokens in enumerate(batches):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = step(model, tokens)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    rate = len(batches[0]) * len(times) / sum(times)
    print(f"{name:40s} {rate:8.1f} seq/s  (final loss {float(loss):.3f})")
    return {"name": name, "seq_per_s": rate}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=30, help="timed steps (after warm-up)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--no-append", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("bench_bert_gpu: needs a CUDA GPU; nothing measured", file=sys.stderr)
        return 1
    torch.backends.cuda.matmul.allow_tf32 = True
    from transformers import BertForMaskedLM

    device = torch.device("cuda")
    vocab_size = len(vocab(K))
    generator = torch.Generator(device=device).manual_seed(0)
    batches = [
        torch.randint(0, 4, (args.batch, LENGTH), dtype=torch.uint8, device=device, generator=generator)
        for _ in range(args.warmup + args.steps)
    ]
    span_step = lambda m, t: mlm_step(m, kmer_ids(t, K), K, 0.15, vocab_size)[0]  # noqa: E731
    plain = lambda m, t: plain_step(m, kmer_ids(t, K), vocab_size)  # noqa: E731
    results = []
    for compiled in (False, True):
        suffix = ", compiled" if compiled else ""
        model = BertForMaskedLM(bert_config(BASE, LENGTH)).to(device).train()
        if compiled:
            model.compile()
        results.append(measure(f"genomedl BertForMaskedLM bf16{suffix}", model, span_step, batches, args.warmup))
        del model
        model = PlainBert(vocab_size, LENGTH - K + 3).to(device).train()
        if compiled:
            model.compile()
        results.append(measure(f"plain PyTorch TransformerEncoder bf16{suffix}", model, plain, batches, args.warmup))
        del model
        torch.cuda.empty_cache()
    if not args.no_append:
        import transformers

        lines = [
            f"\n### bench_bert_gpu.py, {datetime.date.today()}\n",
            f"{torch.cuda.get_device_name()}, torch {torch.__version__}, transformers {transformers.__version__}, "
            f"{platform.python_version()}; BERT-base (12 x 768), 512 tokens (6-mers), batch {args.batch}, "
            f"{args.steps} timed steps after {args.warmup}.\n\n| path | sequences/s |\n|---|---|\n",
        ]
        lines += [f"| {r['name']} | {r['seq_per_s']:.1f} |\n" for r in results]
        with open(Path(__file__).with_name("RESULTS.md"), "a") as handle:
            handle.writelines(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
