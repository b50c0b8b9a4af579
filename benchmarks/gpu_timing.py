"""What the GPU benchmarks share: their common options, the per-epoch clock, stderr kept off the terminal, a
compile that only captures graphs (for CPU smoke runs) and the recorded table. Imports nothing that needs pysam."""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import re
import tempfile
import time
from pathlib import Path

import torch

from genomedl.provenance import utc_now
from results_md import RESULTS, append_table


def gpu_parser(doc: str, smoke: str) -> argparse.ArgumentParser:
    """The options of every GPU benchmark (``--epochs``, ``--smoke`` described as ``smoke``, ``--results``); the
    description is the first line of the script's ``doc``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="the first is warm-up and not counted")
    parser.add_argument("--smoke", action="store_true", help=f"{smoke}; nothing recorded")
    parser.add_argument("--results", type=Path, default=RESULTS)
    return parser


def record(path: Path, heading: str, device: str, package: str, details: str, rows: list[str]) -> None:
    """Append a table to the results file ``path``: its intro names the time, the device and the versions of
    torch and ``package`` (read from the modules, which a GPU image's metadata may lack), then ``details``."""
    version = importlib.import_module(package).__version__
    intro = f"{utc_now()} on **{device}**, torch {torch.__version__}, {package} {version}; {details}"
    append_table(path, heading, intro, rows)


class EpochClock:
    """Times of the per-epoch lines a run logs (``epoch N...``); the rate is taken between the first and last."""

    def __init__(self):
        self.stamps: list[float] = []

    def __call__(self, line: str) -> None:
        if re.search(r"\bepoch \d+", line):
            self.stamps.append(time.perf_counter())

    def rate(self, windows_per_epoch: int) -> float:
        """Windows (or sequences) per second between the first and the last epoch line."""
        return windows_per_epoch * (len(self.stamps) - 1) / (self.stamps[-1] - self.stamps[0])


def stderr_to_file(name: str) -> None:
    """The clock needs the per-epoch lines, which genomedl logs only when stderr is not a terminal: if it is one,
    send stderr (progress, warnings) to ``<tmp>/<name>.stderr``."""
    if os.isatty(2):
        path = Path(tempfile.gettempdir()) / f"{name}.stderr"
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
        print(f"stderr goes to {path}")


def smoke_compile() -> None:
    """Make ``torch.compile`` and ``Module.compile`` use dynamo's "eager" backend (no inductor code generation)."""
    torch.compile = functools.partial(torch.compile, backend="eager")
    torch.nn.Module.compile = functools.partialmethod(torch.nn.Module.compile, backend="eager")


def table_row(label: str, batch: int, compiled: bool, precision: str, rates: tuple, walls: tuple, digits: int) -> str:
    """One markdown row: genomedl's and the plain loop's rates (``digits`` decimals), their ratio, wall times (s)."""
    ours, theirs = rates
    return (
        f"| {label} | {batch} | {'yes' if compiled else 'no'} | {precision} | {ours:,.{digits}f} | "
        f"{theirs:,.{digits}f} | {ours / theirs:.2f}x | {walls[0]:.1f} / {walls[1]:.1f} |"
    )
