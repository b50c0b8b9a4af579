"""Training throughput on a GPU: genomedl's engine vs a plain PyTorch loop, same model, same GPU, one run.

End to end from the encoded files (tokens.npy, labels.tsv, split.tsv): the engine case calls
``genomedl.train.run_train`` (Lightning, bf16 autocast, per-step gradient diagnostics, checkpoints each
epoch); the plain loops load the same files and train the same registry model with bf16 autocast and fused
AdamW, (a) gathering batches on the host and copying them from pinned memory, (b) with all tokens resident
on the GPU. Throughput = training windows per second over the epochs after the first (warm-up); the
engine's epoch time also covers its validation pass (2 % of windows, both strands), the plain loops have none.

    python benchmarks/bench_train_gpu.py              # on a CUDA machine; appends to benchmarks/RESULTS.md
    python benchmarks/bench_train_gpu.py --smoke      # tiny CPU run that checks the script, records nothing
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from genomedl.models import build_model
from genomedl.provenance import utc_now, versions
from genomedl.tables import read_tsv
from genomedl.train import run_train

CASES = {  # name: (arch, hyperparameters, global batch size)
    "cnn (Basset-like)": ("cnn", {}, 1024),
    "bilstm 2x256": ("lstm", {"hidden_size": 256, "layers": 2, "bidirectional": True}, 512),
}


def write_encoded(folder: Path, n: int, length: int, seed: int = 0) -> dict:
    """Random windows and labels as the encode/split stages write them; 98 % train, 2 % val."""
    rng = np.random.default_rng(seed)
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
    pd.DataFrame({"id": ids, "split": np.where(np.arange(n) % 50 == 0, "val", "train")}).to_csv(
        paths["split"], sep="\t", index=False
    )
    return paths


def engine(paths: dict, out: Path, arch: str, hyper: dict, batch: int, epochs: int, device: str) -> float:
    settings = {
        "arch": arch,
        **hyper,
        "batch_size": batch,
        "epochs": epochs,
        "patience": epochs,
        "accelerator": "gpu" if device == "cuda" else "cpu",
        "devices": 1,
    }
    run_train(
        paths["tokens"],
        paths["meta"],
        paths["labels"],
        paths["split"],
        out,
        "bench",
        settings,
        seed=0,
        log=lambda *_: None,
    )
    history = read_tsv(out / "history.tsv")
    n_train = sum(json.loads((out / "run.json").read_text())["train_counts"].values())
    return n_train * (len(history) - 1) / history["seconds"].iloc[1:].sum()


def plain(paths: dict, arch: str, hyper: dict, batch: int, epochs: int, device: str, resident: bool) -> float:
    """A hand-written loop: bf16 autocast (CUDA), fused AdamW, shuffled batches, no validation."""
    tokens = np.load(paths["tokens"])
    split = read_tsv(paths["split"])["split"].to_numpy()
    labels = (read_tsv(paths["labels"])["label"].to_numpy() == "b").astype(np.int64)
    rows = np.flatnonzero(split == "train")
    x, y = torch.from_numpy(tokens[rows]), torch.from_numpy(labels[rows])
    x, y = (
        (x.to(device), y.to(device)) if resident else ((x.pin_memory(), y.pin_memory()) if device == "cuda" else (x, y))
    )
    torch.manual_seed(0)
    model = build_model(arch, length=tokens.shape[1], n_classes=2, **hyper).to(device).train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3, fused=device == "cuda")
    times = []
    for _ in range(epochs):
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        order = torch.randperm(len(y), device=x.device)
        for start in range(0, len(y), batch):
            index = order[start : start + batch]
            xb = x[index].to(device, non_blocking=True)
            yb = y[index].to(device, non_blocking=True)
            with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
                loss = F.cross_entropy(model(xb).float(), yb)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return len(y) * (epochs - 1) / sum(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="windows (98 %% train)")
    parser.add_argument("--length", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=3, help="the first is warm-up and not counted")
    parser.add_argument("--smoke", action="store_true", help="tiny CPU run; nothing recorded")
    parser.add_argument("--results", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args()
    if args.smoke:
        args.n, args.length, args.epochs, device = 600, 60, 2, "cpu"
    elif not torch.cuda.is_available():
        raise SystemExit("bench_train_gpu: no CUDA device; use --smoke to check the script on CPU")
    else:
        device = "cuda"
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu (smoke)"
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_encoded(Path(tmp), args.n, args.length)
        for label, (arch, hyper, batch) in CASES.items():
            batch = min(batch, 64) if args.smoke else batch
            hyper = {"hidden_size": 8, "layers": 1} if args.smoke and arch == "lstm" else hyper
            ours = engine(paths, Path(tmp) / arch, arch, hyper, batch, args.epochs, device)
            host = plain(paths, arch, hyper, batch, args.epochs, device, resident=False)
            resident = plain(paths, arch, hyper, batch, args.epochs, device, resident=True)
            lines.append(
                f"| {label} | {batch} | {ours:,.0f} | {host:,.0f} | {resident:,.0f} | "
                f"{ours / max(host, resident):.2f}x |"
            )
            print(lines[-1], flush=True)
    if args.smoke:
        return
    v = versions()
    table = "\n".join(
        [
            "\n## Training throughput, engine vs plain PyTorch loop (benchmarks/bench_train_gpu.py, issue 7)\n",
            f"{utc_now()} on **{name}**, torch {v.get('torch')}, lightning {v.get('lightning')}; {args.n:,} windows of "
            f"{args.length} bp, {args.epochs} epochs (first not counted); windows per second.\n",
            "| model | batch | genomedl engine | plain loop, host batches | plain loop, data on GPU "
            "| engine / best plain |",
            "|---|---|---|---|---|---|",
            *lines,
            "",
        ]
    )
    with open(args.results, "a") as handle:
        handle.write(table)


if __name__ == "__main__":
    main()
