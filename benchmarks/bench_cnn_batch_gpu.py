"""The default ``cnn`` recipe on a GPU at genome scale: training windows per second by batch size, in one run.

The default cnn was chosen at batch 32 on the small public benchmarks (benchmarks/QUALITY.md), which
``batch_size: auto`` still gives data of up to 64,000 training windows. This measures what batch 32 costs on a GPU
with many windows, against the larger batches ``auto`` gives large data: ``run_train`` with every default of
``arch: cnn`` (forward strand, weight decay 0.05, the 2-epoch weight average) but the batch size, on random 600-bp
windows, clocked from the end of epoch 1 to the end of the last (as bench_train_gpu.py). Imports nothing that needs
pysam.

    python benchmarks/bench_cnn_batch_gpu.py          # on a CUDA machine; appends to benchmarks/RESULTS.md
    python benchmarks/bench_cnn_batch_gpu.py --smoke  # seconds on CPU: checks the script, records nothing
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from bench_train_gpu import engine, write_encoded
from gpu_timing import gpu_parser, record, stderr_to_file

BATCHES = (32, 256, 1024)


def main() -> None:
    parser = gpu_parser(__doc__, "tiny CPU run in seconds")
    parser.add_argument("--windows", type=int, default=100_000)
    parser.add_argument("--length", type=int, default=600)
    args = parser.parse_args()
    stderr_to_file("bench_cnn_batch_gpu")
    batches, hyper, device = BATCHES, {}, "cuda"
    if args.smoke:
        args.windows, args.length, args.epochs, device = 400, 60, 2, "cpu"
        batches, hyper = (8, 32), {"filters": [8], "kernels": [5], "pools": [4], "hidden": [8]}
    elif not torch.cuda.is_available():
        raise SystemExit("bench_cnn_batch_gpu: no CUDA device; use --smoke to check the script on CPU")
    else:
        torch.backends.cudnn.benchmark = True
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    header = ["| batch | precision | windows/s | relative to batch 32 | end to end (s) |", "|---|---|---|---|---|"]
    print(f"device: {name}; default cnn recipe, {args.windows:,} windows of {args.length} bp", flush=True)
    print("\n".join(header), flush=True)
    lines, first = [], None
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_encoded(Path(tmp) / "data", args.windows, args.length)
        for batch in batches:
            rate, wall, precision = engine(
                paths, Path(tmp) / f"b{batch}", "cnn", hyper, batch, args.epochs, device, False, pinned={}
            )
            first = first or rate
            lines.append(f"| {batch} | {precision} | {rate:,.0f} | {rate / first:.1f}x | {wall:.1f} |")
            print(lines[-1], flush=True)
    if args.smoke:
        return
    record(
        args.results,
        "The default cnn recipe by batch size on a GPU (benchmarks/bench_cnn_batch_gpu.py)",
        name,
        "lightning",
        f"{args.windows:,} random windows of {args.length} bp, {args.epochs} epochs, training windows per second "
        "after epoch 1; every default of `arch: cnn` but the batch size, eager.",
        header + lines,
    )


if __name__ == "__main__":
    main()
