"""What every benchmark script does with its table: print it and, with ``--append``, add it to RESULTS.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def machine(threads: str = "one thread used") -> str:
    """Date, CPU, core count, threads and the load average now (other work on the machine skews timings)."""
    return (
        f"{dt.date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {threads}, "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )


def publish(section: str, append: bool) -> None:
    """Print ``section`` (markdown starting with a heading) and, if ``append``, add it to RESULTS.md."""
    print(section)
    if append:
        with open(RESULTS, "a") as handle:
            handle.write(section)


def append_table(path: Path, heading: str, intro: str, rows: list[str]) -> None:
    """Add a section ``## heading``, an intro paragraph and markdown table ``rows`` to the results file ``path``."""
    with open(path, "a") as handle:
        handle.write("\n".join([f"\n## {heading}\n", f"{intro}\n", *rows, ""]))
