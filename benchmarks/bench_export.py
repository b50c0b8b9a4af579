"""Exporting every architecture: genomedl's TorchScript program (trace + scripted wrapper) vs torch.export.

Run by hand:  python benchmarks/bench_export.py [--length 100] [--append]

For each registry architecture (the small instances of tests/test_export.py, random weights) at
``--length`` bp, one process, one thread: seconds to build the portable program, its file size, the
seconds for one batch of 256 windows after loading it back, and the largest probability difference
to genomedl's ``predict_proba``. The alternative is ``torch.export.export`` of the same strand-averaging
wrapper with a dynamic batch dimension, saved with ``torch.export.save`` and loaded with
``torch.export.load`` (the input checks left out: torch.export cannot trace data-dependent branches).
``--append`` adds the table to RESULTS.md.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from genomedl.inference import predict_proba  # noqa: E402
from genomedl.models import build_model  # noqa: E402
from genomedl.models.layers import reverse_complement_tokens  # noqa: E402
from genomedl.models.portable import script_program  # noqa: E402
from results_md import machine, publish  # noqa: E402
from test_export import ARCHS, tiny_encoder  # noqa: E402


class Averaged(torch.nn.Module):
    """Both strands' probabilities averaged, without the program's input checks (data-dependent
    branches, which torch.export cannot trace)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens):
        forward = self.model(tokens).float().softmax(-1)
        return 0.5 * (forward + self.model(reverse_complement_tokens(tokens)).float().softmax(-1))


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def torchscript(model, length: int, tokens: torch.Tensor):
    program, build = timed(lambda: script_program(model, ["a", "b"], length, True))
    buffer = io.BytesIO()
    torch.jit.save(program, buffer)
    loaded = torch.jit.load(io.BytesIO(buffer.getvalue()))
    loaded(tokens)  # the profiling run
    probs, run = timed(lambda: loaded(tokens))
    return build, len(buffer.getvalue()), run, probs


def exported(model, length: int, tokens: torch.Tensor):
    from torch.export import Dim, export

    wrapper = Averaged(model).eval()
    program, build = timed(
        lambda: export(wrapper, (tokens[:2],), dynamic_shapes={"tokens": {0: Dim("batch")}}, strict=False)
    )
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    loaded = torch.export.load(io.BytesIO(buffer.getvalue())).module()
    loaded(tokens)
    probs, run = timed(lambda: loaded(tokens))
    return build, len(buffer.getvalue()), run, probs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--append", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    length = args.length
    tokens = torch.from_numpy(np.random.default_rng(0).integers(0, 5, size=(256, length), dtype=np.uint8))
    rows = []
    with tempfile.TemporaryDirectory() as folder, torch.no_grad():
        encoder = tiny_encoder(Path(folder) / "encoder", length)
        for name, settings in ARCHS.items():
            hyper = {k: v for k, v in settings.items() if k != "arch"} | (
                {"encoder": str(encoder)} if name == "bert" else {}
            )
            torch.manual_seed(0)
            model = build_model(settings["arch"], length=length, n_classes=2, **hyper).eval()
            reference = predict_proba(model, tokens.numpy())
            for method, fn in (("TorchScript (genomedl)", torchscript), ("torch.export", exported)):
                try:
                    build, size, run, probs = fn(model, length, tokens)
                    diff = float(np.abs(probs.double().numpy() - reference).max())
                    rows.append((name, method, f"{build:.2f}", f"{size / 1e3:.0f}", f"{run * 1e3:.1f}", f"{diff:.1e}"))
                except Exception as exc:  # a failure is a result too
                    rows.append((name, method, "failed", "", "", type(exc).__name__))
                print(*rows[-1], sep="\t", flush=True)
    table = ["| model | method | build s | file kB | 256 windows ms | max abs diff |", "|---|---|---:|---:|---:|---|"]
    table += ["| " + " | ".join(row) + " |" for row in rows]
    publish(
        f"\n## export (benchmarks/bench_export.py, issue 12)\n\n{machine('one thread')}; windows of {length} bp, "
        "the small models of tests/test_export.py (random weights), both strands averaged in the program.\n\n"
        + "\n".join(table)
        + "\n",
        args.append,
    )


if __name__ == "__main__":
    main()
