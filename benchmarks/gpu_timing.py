"""What the two GPU benchmarks share: the per-epoch clock, stderr kept off the terminal, and a compile that
only captures graphs (for CPU smoke runs). Needs only the standard library and torch."""

from __future__ import annotations

import functools
import os
import re
import tempfile
import time
from pathlib import Path

import torch


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
