"""What the workflow's end-of-run handlers print (Snakefile ``onerror:`` / ``onsuccess:``): the genomedl
error line of each failed job, and the data-changing ``warning:`` lines of the jobs that finished.

Torch-free; paths are relative to the workflow's working directory."""

from __future__ import annotations

import re
from pathlib import Path

ERROR = re.compile(r"^genomedl [\w-]+: error: ")
JOB_LOG = re.compile(r"^\s*log: (.+?) \(check log file")


def job_logs(snakemake_log) -> list[Path]:
    """The log files that Snakemake's own log(s) (a path or a list of them) name for its failed jobs."""
    found = []
    for name in [snakemake_log] if isinstance(snakemake_log, (str, Path)) else snakemake_log or []:
        if Path(name).is_file():
            for line in Path(name).read_text(errors="replace").splitlines():
                match = JOB_LOG.match(line)
                if match:
                    found += [Path(p.strip()) for p in match[1].split(",")]
    return list(dict.fromkeys(found))


def failed_lines(snakemake_log, logs_dir: str = "logs", since: float = 0.0) -> list[str]:
    """``genomedl <stage>: error: ...`` lines of the failed jobs: from the logs that Snakemake names, else
    from every log under ``logs_dir`` written since ``since`` (seconds since the epoch)."""
    paths = job_logs(snakemake_log) or [
        p for p in sorted(Path(logs_dir).rglob("*.log")) if p.is_file() and p.stat().st_mtime >= since
    ]
    lines = []
    for path in paths:
        if path.is_file():
            errors = [x for x in path.read_text(errors="replace").splitlines() if ERROR.match(x)]
            lines += errors[-1:]
    return lines


def data_warnings(logs_dir: str = "logs", since: float = 0.0) -> list[str]:
    """``<log>: warning: ...`` for every warning line of the logs under ``logs_dir`` written since ``since``
    (warnings mark data that a stage skipped, dropped, padded or repaired; notes are not listed)."""
    lines = []
    for path in sorted(Path(logs_dir).rglob("*.log")):
        if path.is_file() and path.stat().st_mtime >= since:
            text = path.read_text(errors="replace").splitlines()
            lines += [f"{path}: {x}" for x in text if x.startswith("warning:")]
    return lines


def print_at_exit(lines: list[str]) -> None:
    """Print ``lines`` to stderr when the process exits: after Snakemake's own closing lines, so that a failed
    job's genomedl line is the last thing on the console."""
    import atexit
    import sys

    if lines:
        atexit.register(lambda: print(*lines, sep="\n", file=sys.stderr, flush=True))
