"""Where a stage's messages go: progress and results to stdout, ``warning:`` and ``note:`` lines to stderr
(under Snakemake both reach the job's log; on a terminal the warnings stand apart from the progress)."""

from __future__ import annotations

import sys

WARNING_PREFIXES = ("warning:", "note:")


def log(message: str) -> None:
    """Print ``message``: to stderr when it is a warning or a note, else to stdout."""
    print(message, file=sys.stderr if message.startswith(WARNING_PREFIXES) else sys.stdout, flush=True)
