"""Run provenance: versions, git commit, hardware and times, recorded in run.json."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("genomedl", "torch", "lightning", "numpy", "pandas", "scikit-learn", "biopython", "pysam", "snakemake")


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def git_commit() -> str:
    """The commit of the genomedl checkout this package runs from, or "" when not in git."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def config_hash(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def hardware(device: str) -> dict:
    return {
        "device": device,
        "machine": platform.machine(),
        "system": platform.system(),
        "processor": platform.processor() or platform.machine(),
    }


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_record(
    name: str, arch: str, settings: dict, seed: int, classes: list[str], length: int, train_labels
) -> dict:
    """The first keys of a model's run.json: name, arch, settings and their hash, seed, classes, window
    length (bp) and the train split's count per class (``train_labels``: class indices ``[N]``)."""
    return {
        "model": name,
        "arch": arch,
        "settings": settings,
        "seed": seed,
        "config_hash": config_hash(settings),
        "classes": classes,
        "length": length,
        "train_counts": {c: int((train_labels == i).sum()) for i, c in enumerate(classes)},
    }
