"""Training throughput on a GPU: genomedl's engine vs a plain PyTorch loop, like for like, in one run.

End to end from the encoded files (tokens.npy, labels.tsv, split.tsv), eager and ``torch.compile``d. The engine
case is ``genomedl.stages.train.run_train`` with its defaults (precision auto = bf16 autocast on bf16 GPUs, fused AdamW,
gradient clipping at 1.0 with per-layer gradient norms, validation on one strand every epoch, ``last.ckpt`` every
epoch + ``best.ckpt`` when validation improves), but for the recipe keys in ``PINNED`` (reverse-complement
augmentation, weight decay 0.01, no weight average), set to what the plain loop does. The plain loop reads the same
files and does the same work by hand: same registry model, batch, precision, optimiser, clipping, strand flips,
validation split (15 %, the split stage's default) and checkpoints (model + optimiser state), batches gathered on
the host into pinned memory. Both are clocked the same way: from the end of epoch 1's validation to the end of the
last epoch's, so warm-up and compilation stay out and every counted epoch includes one validation pass and one
checkpoint write; windows per second = training windows x (epochs - 1) / that time. The end-to-end wall time
(loading, compilation and all) is shown too. Imports nothing that needs pysam.

    python benchmarks/bench_train_gpu.py              # on a CUDA machine; appends to benchmarks/RESULTS.md
    python benchmarks/bench_train_gpu.py --smoke      # seconds on CPU: checks the script, records nothing

``--smoke`` compiles with dynamo's "eager" backend (graph capture without code generation) to stay within seconds.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from genomedl.data.files import DatasetFiles
from genomedl.models import build_model
from genomedl.models.layers import reverse_complement_tokens
from genomedl.stages.train import run_train
from genomedl.tables import read_tsv
from gpu_timing import EpochClock, gpu_parser, record, smoke_compile, stderr_to_file, table_row

CASES = {  # name: (arch, hyperparameters, global batch size, windows)
    "cnn (genomedl default network)": ("cnn", {}, 1024, 200_000),
    "bilstm 2x256": ("lstm", {"hidden_size": 256, "layers": 2, "bidirectional": True}, 512, 30_000),
}
SMOKE = {  # the same cases, tiny
    "cnn (genomedl default network)": ("cnn", {"filters": [8], "kernels": [5], "pools": [4], "hidden": [8]}, 32, 400),
    "bilstm 2x256": ("lstm", {"hidden_size": 8, "layers": 1, "bidirectional": True}, 32, 400),
}
VAL = 0.15
# the recipe keys that change the work or the update per step, pinned to what the plain loop does (the cnn's own
# defaults differ: forward strand only, weight decay 0.05, a weight average)
PINNED = {"lr": 1e-3, "weight_decay": 0.01, "rc_augment": True, "ema_epochs": 0, "imbalance": "none"}
EQUAL = (
    "equal on both sides: model, batch, precision, AdamW fused on CUDA (lr 1e-3, weight decay 0.01), clipping at 1.0, "
    f"strand flips, a {VAL:.0%} validation split scored each epoch on one strand, a checkpoint with optimiser "
    "state every epoch, host-gathered batches in pinned memory, the same clock"
)


def write_encoded(folder: Path, n: int, length: int, seed: int = 0) -> dict:
    """Random windows and labels as the encode/split stages write them; 70 % train, 15 % val, 15 % test."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        k: folder / f
        for k, f in (("tokens", "tokens.npy"), ("meta", "meta.json"), ("labels", "labels.tsv"), ("split", "split.tsv"))
    }
    np.save(paths["tokens"], rng.integers(0, 4, size=(n, length), dtype=np.uint8))
    paths["meta"].write_text(json.dumps({"classes": ["a", "b"], "length": length}))
    ids = [f"w{i}" for i in range(n)]
    pd.DataFrame({"id": ids, "label": np.where(rng.random(n) < 0.5, "a", "b")}).to_csv(
        paths["labels"], sep="\t", index=False
    )
    part = np.where(rng.random(n) < VAL, "val", np.where(rng.random(n) < VAL / (1 - VAL), "test", "train"))
    pd.DataFrame({"id": ids, "split": part}).to_csv(paths["split"], sep="\t", index=False)
    return paths


def engine(
    paths: dict, out: Path, arch: str, hyper: dict, batch: int, epochs: int, device: str, compiled: bool, pinned=PINNED
):
    """(windows/s, end-to-end seconds, precision) of ``run_train`` with its defaults, but for the ``pinned`` keys."""
    settings = {
        "arch": arch,
        **hyper,
        **pinned,
        "batch_size": batch,
        "epochs": epochs,
        "patience": epochs,
        "compile": compiled,
        "accelerator": "gpu" if device == "cuda" else "cpu",
        "devices": 1,
    }
    clock = EpochClock()
    t0 = time.perf_counter()
    files = DatasetFiles(paths["tokens"], paths["meta"], paths["labels"], paths["split"])
    run = run_train(files, out, "bench", settings, seed=0, log=clock)
    wall = time.perf_counter() - t0
    per_epoch = run["samples_per_rank"][0] // epochs
    return clock.rate(per_epoch), wall, run["precision"]


def plain(paths: dict, out: Path, arch: str, hyper: dict, batch: int, epochs: int, device: str, compiled: bool):
    """(windows/s, end-to-end seconds): the same training written as a plain loop."""
    t0 = time.perf_counter()
    tokens = torch.from_numpy(np.load(paths["tokens"]))
    split = read_tsv(paths["split"])["split"].to_numpy()
    labels = torch.from_numpy((read_tsv(paths["labels"])["label"].to_numpy() == "b").astype(np.int64))
    train, val = (torch.from_numpy(np.flatnonzero(split == s)) for s in ("train", "val"))
    cuda = device == "cuda"
    bf16 = cuda and torch.cuda.is_bf16_supported(including_emulation=False)
    torch.manual_seed(0)
    model = build_model(arch, length=tokens.shape[1], n_classes=2, **hyper).to(device)
    step_model = torch.compile(model) if compiled else model
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01, fused=cuda)
    buffers = [(torch.empty((batch, tokens.shape[1]), dtype=torch.uint8), torch.empty(batch, dtype=torch.int64))]
    buffers = [tuple(b.pin_memory() for b in pair) for pair in buffers * 2] if cuda else buffers * 2
    copied: list = [None, None]

    def batches(rows: torch.Tensor, size: int, drop_last: bool):
        """Host gather into one of two pinned buffers, async copy to the device."""
        for i, start in enumerate(range(0, len(rows) - (size - 1 if drop_last else 0), size)):
            index = rows[start : start + size]
            x, y = buffers[i % 2] if len(index) == batch else (torch.empty(0, dtype=torch.uint8), torch.empty(0))
            if copied[i % 2] is not None:
                copied[i % 2].synchronize()  # the copy out of this buffer has finished
            if len(index) == batch:
                torch.index_select(tokens, 0, index, out=x)
                torch.index_select(labels, 0, index, out=y)
            else:
                x, y = tokens[index], labels[index]
            xb, yb = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            if cuda:
                copied[i % 2] = torch.cuda.Event()
                copied[i % 2].record()
            yield xb, yb

    autocast = lambda: torch.autocast(device, dtype=torch.bfloat16 if bf16 else torch.float16, enabled=cuda)  # noqa: E731
    clock, best = EpochClock(), float("inf")
    for epoch in range(epochs):
        model.train()
        order = train[torch.randperm(len(train))]
        for xb, yb in batches(order, batch, drop_last=compiled):  # as run_train: full batches only when compiled
            flip = torch.rand(len(xb), device=xb.device) < 0.5
            xb = torch.where(flip[:, None], reverse_complement_tokens(xb), xb)
            with autocast():
                loss = F.cross_entropy(step_model(xb).float(), yb)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
        model.eval()
        total = torch.zeros((), device=device)
        with torch.no_grad(), autocast():
            for xb, yb in batches(val, max(batch, 256), drop_last=False):
                total += F.cross_entropy(step_model(xb).float(), yb, reduction="sum")
        val_loss = float(total) / len(val)  # one device sync per epoch, as the engine's metrics
        clock(f"epoch {epoch + 1}")
        state = {"model": model.state_dict(), "optimizer": optimiser.state_dict(), "epoch": epoch}
        torch.save(state, out / "last.ckpt")
        if val_loss < best:
            best = val_loss
            torch.save(state, out / "best.ckpt")
    return clock.rate(len(train) // batch * batch if compiled else len(train)), time.perf_counter() - t0


def main() -> None:
    parser = gpu_parser(__doc__, "tiny CPU run in seconds")
    parser.add_argument("--length", type=int, default=600)
    args = parser.parse_args()
    stderr_to_file("bench_train_gpu")
    cases = SMOKE if args.smoke else CASES
    if args.smoke:
        args.length, args.epochs, device = 60, 2, "cpu"
        smoke_compile()
    elif not torch.cuda.is_available():
        raise SystemExit("bench_train_gpu: no CUDA device; use --smoke to check the script on CPU")
    else:
        device = "cuda"
        torch.backends.cudnn.benchmark = True  # as run_train does on a GPU
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    print(f"device: {name}; {EQUAL}", flush=True)
    header = [
        "| model | batch | compiled | precision | genomedl engine | plain loop | engine / plain "
        "| end to end, engine / plain (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(header), flush=True)
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, (arch, hyper, batch, n) in cases.items():
            paths = write_encoded(Path(tmp) / arch, n, args.length)
            for compiled in (False, True):
                out = Path(tmp) / f"{arch}-{compiled}"
                ours, ours_wall, precision = engine(paths, out, arch, hyper, batch, args.epochs, device, compiled)
                theirs, theirs_wall = plain(paths, out, arch, hyper, batch, args.epochs, device, compiled)
                lines.append(table_row(label, batch, compiled, precision, (ours, theirs), (ours_wall, theirs_wall), 0))
                print(lines[-1], flush=True)
    if args.smoke:
        return
    record(
        args.results,
        "Training throughput, engine vs plain PyTorch loop (benchmarks/bench_train_gpu.py, issue 22)",
        name,
        "lightning",
        f"windows of {args.length} bp, {args.epochs} epochs, training windows per second after epoch 1; {EQUAL}.",
        header + lines,
    )


if __name__ == "__main__":
    main()
