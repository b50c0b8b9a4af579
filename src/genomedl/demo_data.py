"""Real demo records: GenBank files from Biopython's source distribution on PyPI.

The sdist is obtained with ``pip download`` by version, its sha256 checked against the value in the
config, cached under ``$GENOMEDL_CACHE`` (default ``~/.cache/genomedl``), and the requested files
are extracted from its ``Tests/`` folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from .atomic import atomic_path
from .errors import GenomedlError
from .provenance import sha256_file


def cache_dir() -> Path:
    return Path(os.environ.get("GENOMEDL_CACHE", Path.home() / ".cache" / "genomedl"))


def biopython_sdist(version: str, sha256: str) -> Path:
    """Return the cached, checksum-verified ``biopython-<version>.tar.gz``, downloading it if needed."""
    cached = cache_dir() / f"biopython-{version}.tar.gz"
    if cached.exists() and sha256_file(cached) == sha256:
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cached.parent) as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"biopython=={version}",
            "-d",
            tmp,
        ]
        done = subprocess.run(cmd, capture_output=True, text=True)
        downloaded = Path(tmp) / cached.name
        if done.returncode != 0 or not downloaded.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise GenomedlError(
                f"could not download biopython=={version} sdist from the package index ({last}); "
                "check network access to PyPI or place the file in " + str(cached.parent)
            )
        found = sha256_file(downloaded)
        if found != sha256:
            raise GenomedlError(
                f"biopython-{version}.tar.gz has sha256 {found}, expected {sha256} "
                "(config key demo_data.sha256); refusing to use it"
            )
        os.replace(downloaded, cached)
    return cached


def extract_test_files(version: str, sha256: str, members: list[str], outputs: list[Path]) -> None:
    """Extract each ``Tests/<member>`` of the Biopython sdist to the matching output path, atomically."""
    if len(members) != len(outputs):
        raise GenomedlError(f"{len(members)} demo files but {len(outputs)} output paths; give one output per file")
    sdist = biopython_sdist(version, sha256)
    with tarfile.open(sdist) as archive:
        for member, target in zip(members, outputs):
            name = f"biopython-{version}/Tests/{member}"
            try:
                source = archive.extractfile(name)
            except KeyError:
                source = None
            if source is None:
                raise GenomedlError(
                    f"{member} is not in biopython-{version}'s Tests/ folder "
                    "(config key demo_data.files); check the file name"
                )
            with atomic_path(target) as tmp:
                tmp.write_bytes(source.read())
                mtime = archive.getmember(name).mtime  # keeps provenance dates stable across reruns
                os.utime(tmp, (mtime, mtime))
