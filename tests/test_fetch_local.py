"""Fetch stage, local-files source, on real GenBank records from Biopython's test set."""

from __future__ import annotations

import gzip
import hashlib
import io

import pytest
from Bio import SeqIO

from genomedl.errors import GenomedlError
from genomedl.sources.genbank_text import split_records
from genomedl.stages.fetch import run_fetch
from genomedl.tables import read_json, read_tsv


def fetch(tmp_path, files):
    out = tmp_path / "raw"
    source = {"local": [str(f) for f in files]}
    outputs = [out / name for name in ("records.gb.gz", "manifest.tsv", "genes.json")]
    n = run_fetch(*outputs, {"source": source}, log=lambda *a: None)
    return n, out


def test_manifest_rows_match_records(tmp_path, biopython_genbank):
    files = [biopython_genbank / name for name in ("arab1.gb", "cor6_6.gb", "NC_000932.gb")]
    n, out = fetch(tmp_path, files)
    with gzip.open(out / "records.gb.gz", "rt") as handle:
        text = handle.read()
    records = list(SeqIO.parse(io.StringIO(text), "genbank"))
    manifest = read_tsv(out / "manifest.tsv", dtype=str)
    assert n == len(records) == len(manifest) == 8  # cor6_6.gb holds six records
    assert manifest["accession_version"].tolist() == [r.id for r in records]
    assert manifest.loc[0, "accession_version"] == "AC007323.5"
    assert manifest.loc[0, "taxon_id"] == "3702"
    assert manifest.loc[0, "organism"] == "Arabidopsis thaliana"
    assert set(manifest["source"]) == {"local"}
    for row, record_text in zip(manifest.itertuples(), split_records(text, "records")):
        assert row.sha256 == hashlib.sha256(record_text.encode()).hexdigest()
        assert int(row.size) == len(record_text.encode())
    assert read_json(out / "genes.json") == []


def test_rerun_is_byte_identical(tmp_path, biopython_genbank):
    files = [biopython_genbank / "arab1.gb", biopython_genbank / "one_of.gb"]
    _, first = fetch(tmp_path / "a", files)
    _, second = fetch(tmp_path / "b", files)
    for name in ("records.gb.gz", "manifest.tsv"):
        assert (first / name).read_bytes() == (second / name).read_bytes()


def test_duplicate_records_are_kept_once(tmp_path, biopython_genbank):
    n, out = fetch(tmp_path, [biopython_genbank / "arab1.gb", biopython_genbank / "arab1.gb"])
    assert n == 1
    assert len(read_tsv(out / "manifest.tsv")) == 1


def test_truncated_file_names_file_and_leaves_nothing(tmp_path, biopython_genbank):
    text = (biopython_genbank / "arab1.gb").read_text()
    broken = tmp_path / "broken.gb"
    broken.write_text(text[: len(text) // 2])
    with pytest.raises(GenomedlError, match=r"broken\.gb: record 1 has no '//' end marker"):
        fetch(tmp_path, [broken])
    assert not (tmp_path / "raw").exists() or not any((tmp_path / "raw").iterdir())


def test_missing_file_is_named(tmp_path):
    with pytest.raises(GenomedlError, match=r"nowhere\.gb: file not found"):
        fetch(tmp_path, [tmp_path / "nowhere.gb"])


def test_protein_record_is_refused(tmp_path, biopython_genbank):
    from genomedl.stages.demo_data import run_demo_data
    from helpers import demo_settings

    run_demo_data(demo_settings() | {"files": ["GenBank/protein_refseq.gb"], "out_dir": str(tmp_path)}, log=print)
    target = tmp_path / "GenBank" / "protein_refseq.gb"
    with pytest.raises(GenomedlError, match="protein record"):
        fetch(tmp_path, [target])
