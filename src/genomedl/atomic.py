"""Atomic output: write to a temporary file beside the target, rename on success.

A killed job therefore never leaves a file that looks complete.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Iterator


def _prepared(path: str | os.PathLike) -> Path:
    """``path`` with its folder made and the temporary files or folders that a killed earlier write of it left
    behind removed."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink(missing_ok=True)
    return target


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``path`` if the block succeeds.
    Leftovers of a killed earlier write are removed first."""
    target = _prepared(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600; outputs get the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; it replaces ``path`` (a folder) when the block succeeds.
    Leftovers of a killed earlier write are removed first."""
    target = _prepared(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        shutil.rmtree(target, ignore_errors=True)
        os.rename(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file for writing; it replaces ``path`` only when the block succeeds."""
    with atomic_path(path) as tmp, open(tmp, mode, **open_kwargs) as handle:
        yield handle


def atomic_torch_save(obj, path: str | os.PathLike) -> None:
    """``torch.save`` atomically, through a file handle: the archive's inner folder then has a fixed name
    instead of the temporary file's, so equal objects give byte-identical files."""
    import torch

    with atomic_write(path, "wb") as handle:
        torch.save(obj, handle)
