"""BERT-base masked-LM pretraining throughput on 512 tokens: genomedl's ``run_pretrain`` vs a plain PyTorch loop.

End to end from token files (tokens.npy + split.tsv of 515-bp windows: 510 overlapping 6-mers + CLS + SEP = 512
tokens), eager and ``torch.compile``d (the encoder). genomedl: ``genomedl.stages.pretrain.run_pretrain`` with its
defaults (precision auto = bf16 autocast on bf16 GPUs, fused AdamW, warm-up + cosine schedule, strand flips,
device-side 6-mer tokenizer, whole-6-mer span masking, Hugging Face ``BertForMaskedLM`` with SDPA attention, the
MLM head on the masked positions, a 10 % held-out pass every epoch, pinned batches). Plain: ``nn.TransformerEncoder``
of the same size (12 x 768, 12 heads, 3072) with token + position embeddings and a tied head on the masked
positions, fed the same windows with the same tokenizer, masking, flips, optimiser, schedule, precision, batch and
held-out pass. Both are clocked from the end of epoch 1 to the end of the last epoch (compilation and warm-up
left out); sequences per second = training windows x (epochs - 1) / that time. Imports nothing that needs pysam.

    python benchmarks/bench_bert_gpu.py           # on a CUDA machine; appends to benchmarks/RESULTS.md
    python benchmarks/bench_bert_gpu.py --smoke   # seconds on CPU (a tiny BERT, 60 tokens): checks the script only
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

from genomedl.config import stage_settings
from genomedl.encoding.masking import whole_kmer_mask
from genomedl.encoding.tokenizer import kmer_ids, vocab
from genomedl.models.layers import reverse_complement_tokens
from genomedl.stages.pretrain import run_pretrain
from genomedl.training.engine import warmup_cosine
from gpu_timing import EpochClock, gpu_parser, record, smoke_compile, stderr_to_file, table_row

K, LENGTH = 6, 515
BASE = {"k": K, "hidden": 768, "layers": 12, "heads": 12, "intermediate": 3072, "batch_size": 64}
TINY = {"k": K, "hidden": 32, "layers": 1, "heads": 2, "intermediate": 64, "batch_size": 8}
EQUAL = (
    "equal on both sides: size, batch, precision, AdamW (fused on CUDA) + warm-up/cosine schedule, strand flips, "
    "device-side 6-mer ids, whole-6-mer masking of 15 %, MLM head on the masked positions, a 10 % held-out pass "
    "each epoch, the same clock"
)


def write_tokens(folder: Path, n: int, length: int, seed: int = 0) -> tuple[Path, Path]:
    """``n`` random windows (tokens.npy) and a split.tsv putting them all in the train split."""
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "tokens.npy", np.random.default_rng(seed).integers(0, 4, (n, length), dtype=np.uint8))
    pd.DataFrame({"id": [f"w{i}" for i in range(n)], "split": "train"}).to_csv(
        folder / "split.tsv", sep="\t", index=False
    )
    return folder / "tokens.npy", folder / "split.tsv"


class PlainBert(nn.Module):
    """BERT-sized encoder from torch.nn: ids ``[B, T]`` -> hidden ``[B, T, H]``; ``head`` ties the embedding."""

    def __init__(self, vocab_size: int, tokens: int, s: dict):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, s["hidden"])
        nn.init.normal_(self.embed.weight, std=0.02)  # BERT's initialisation
        self.position = nn.Parameter(torch.zeros(tokens, s["hidden"]))
        layer = nn.TransformerEncoderLayer(
            s["hidden"], s["heads"], s["intermediate"], dropout=s["dropout"], activation="gelu", batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, s["layers"], enable_nested_tensor=False)
        self.norm = nn.LayerNorm(s["hidden"])

    def forward(self, ids):
        return self.norm(self.encoder(self.embed(ids) + self.position))

    def head(self, hidden):
        return hidden @ self.embed.weight.T


def genomedl(tokens: Path, split: Path, out: Path, s: dict, device: str, compiled: bool):
    """(sequences/s, end-to-end seconds, precision) of ``run_pretrain``."""
    settings = {**s, "compile": compiled, "accelerator": "gpu" if device == "cuda" else "cpu", "devices": 1}
    clock = EpochClock()
    t0 = time.perf_counter()
    run = run_pretrain(tokens, split, out, settings, seed=0, log=clock)
    wall = time.perf_counter() - t0
    n_train = run["windows"]["train_split"] - run["windows"]["held_out"]
    return clock.rate(n_train // s["batch_size"] * s["batch_size"] if compiled else n_train), wall, run["precision"]


def plain(tokens_path: Path, s: dict, device: str, compiled: bool):
    """(sequences/s, end-to-end seconds): the same pretraining as a plain loop."""
    t0 = time.perf_counter()
    cuda, batch = device == "cuda", s["batch_size"]
    windows = torch.from_numpy(np.load(tokens_path))
    order = torch.from_numpy(np.random.default_rng(0).permutation(len(windows)))
    n_hold = max(int(round(s["holdout"] * len(windows))), 1)
    held, train = windows[order[:n_hold]], windows[order[n_hold:]]
    if cuda:
        held, train = held.pin_memory(), train.pin_memory()
    vocab_size = len(vocab(K))
    torch.manual_seed(0)
    model = PlainBert(vocab_size, windows.shape[1] - K + 3, s).to(device)
    encoder = torch.compile(model) if compiled else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=s["lr"], weight_decay=s["weight_decay"], fused=cuda)
    steps = len(train) // batch * s["epochs"]
    warmup = int(round(s["warmup"] * steps))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: warmup_cosine(step, warmup, steps))
    bf16 = cuda and torch.cuda.is_bf16_supported(including_emulation=False)
    autocast = lambda: torch.autocast(device, dtype=torch.bfloat16 if bf16 else torch.float16, enabled=cuda)  # noqa: E731

    def loss_of(rows: torch.Tensor, flip: bool) -> torch.Tensor:
        rows = rows.to(device, non_blocking=True)
        if flip:
            rows = torch.where(
                (torch.rand(len(rows), device=device) < 0.5)[:, None], reverse_complement_tokens(rows), rows
            )
        inputs, labels, masked = whole_kmer_mask(kmer_ids(rows, K, True), K, s["mask_rate"], vocab_size)
        with autocast():
            hidden = encoder(inputs)
            return F.cross_entropy(model.head(hidden[masked]).float(), labels[masked])

    clock = EpochClock()
    for epoch in range(s["epochs"]):
        model.train()
        shuffled = torch.randperm(len(train))
        for start in range(0, len(train) - (batch - 1 if compiled else 0), batch):  # as run_pretrain
            loss = loss_of(train[shuffled[start : start + batch]], flip=True)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
        model.eval()
        with torch.no_grad():
            total = sum(
                loss_of(held[i : i + max(batch, 256)], flip=False) for i in range(0, len(held), max(batch, 256))
            )
        float(total)  # one sync per epoch
        clock(f"epoch {epoch + 1}/{s['epochs']}")
    return clock.rate(len(train) // batch * batch if compiled else len(train)), time.perf_counter() - t0


def main() -> None:
    parser = gpu_parser(__doc__, "tiny BERT on CPU in seconds")
    parser.add_argument("--windows", type=int, default=2560, help="train-split windows (10 %% held out)")
    parser.add_argument("--length", type=int, default=LENGTH, help="bp per window (515: 512 tokens)")
    args = parser.parse_args()
    stderr_to_file("bench_bert_gpu")
    size = TINY if args.smoke else BASE
    if args.smoke:
        args.windows, args.epochs, args.length, device = 64, 2, 63, "cpu"
        smoke_compile()
    elif not torch.cuda.is_available():
        raise SystemExit("bench_bert_gpu: no CUDA device; use --smoke to check the script on CPU")
    else:
        device = "cuda"
        torch.backends.cuda.matmul.allow_tf32 = True
    s = stage_settings("pretrain", {**size, "epochs": args.epochs})
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    print(f"device: {name}; {EQUAL}", flush=True)
    header = [
        "| model | batch | compiled | precision | genomedl run_pretrain | plain loop | genomedl / plain "
        "| end to end, genomedl / plain (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(header), flush=True)
    label = f"{'tiny BERT' if args.smoke else 'BERT-base'} {args.length - K + 3} tokens"
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        tokens, split = write_tokens(Path(tmp), args.windows, args.length)
        for compiled in (False, True):
            ours, ours_wall, precision = genomedl(tokens, split, Path(tmp) / f"run-{compiled}", s, device, compiled)
            theirs, theirs_wall = plain(tokens, s, device, compiled)
            lines.append(
                table_row(label, s["batch_size"], compiled, precision, (ours, theirs), (ours_wall, theirs_wall), 1)
            )
            print(lines[-1], flush=True)
    if args.smoke:
        return
    record(
        args.results,
        "BERT-base MLM pretraining throughput (benchmarks/bench_bert_gpu.py, issue 22)",
        name,
        "transformers",
        f"{args.windows:,} windows, {args.epochs} epochs, sequences per second after epoch 1; {EQUAL}.",
        header + lines,
    )


if __name__ == "__main__":
    main()
