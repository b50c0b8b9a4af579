"""Each fault the fake server injects ends in a retried success or one clear error, never a bad cache."""

from __future__ import annotations

import pytest

from genomedl.errors import GenomedlError
from genomedl.sources.ncbi.records import check_record


def assert_cache_clean(cache_dir, expected: set[str]):
    """Only complete, valid records (with sidecars) and no temporary files are in the cache."""
    files = [p for p in cache_dir.rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.endswith(".tmp")]
    records = {p.stem for p in (cache_dir / "nuccore").glob("*.gb")} if (cache_dir / "nuccore").exists() else set()
    assert records == expected
    for name in records:
        check_record((cache_dir / "nuccore" / f"{name}.gb").read_text())
        assert (cache_dir / "nuccore" / f"{name}.json").is_file()


def test_429_waits_for_retry_after(fetch, fake, lines, tmp_path):
    fake.add_fault("efetch", "status", code=429, retry_after="1")
    records, _ = fetch({"accessions": ["NG_012337.1"]})
    assert [r.accession_version for r in records] == ["NG_012337.1"]
    first, second = fake.seen("efetch")
    assert first.status == 429 and second.status == 200
    assert second.time - first.time >= 1.0
    assert any("HTTP 429" in line and "retry 1/3" in line for line in lines)
    assert_cache_clean(tmp_path / "cache", {"NG_012337.1"})


@pytest.mark.parametrize("code", [500, 502, 503])
def test_server_errors_are_retried(fetch, fake, code, tmp_path):
    fake.add_fault("esearch", "status", code=code, times=2)
    records, _ = fetch({"genes": [{"symbol": "SDHD", "taxon": 9606}]})
    assert [s.status for s in fake.seen("esearch")] == [code, code, 200]
    assert records[0].accession_version == "NG_012337.1"


def test_persistent_server_error_is_one_clear_error(fetch, fake, tmp_path):
    fake.add_fault("efetch", "status", code=503, times=99)
    with pytest.raises(GenomedlError) as caught:
        fetch({"accessions": ["NG_012337.1"]})
    message = str(caught.value)
    assert "NG_012337.1" in message and "failed 4 times" in message and "HTTP 503" in message
    assert len(fake.seen("efetch")) == 4
    assert_cache_clean(tmp_path / "cache", set())


def test_stall_beyond_timeout_is_retried(fetch, fake, tmp_path):
    fake.add_fault("efetch", "stall", seconds=1.5)
    records, _ = fetch({"accessions": ["NM_003002.2"]}, timeout_s=0.5)
    assert [r.accession_version for r in records] == ["NM_003002.2"]
    assert len(fake.seen("efetch")) == 2
    assert_cache_clean(tmp_path / "cache", {"NM_003002.2"})


@pytest.mark.parametrize("kind", ["truncate", "cut_sequence"])
def test_damaged_record_is_fetched_again(fetch, fake, shared_data, kind, lines, tmp_path):
    fake.add_fault("efetch", kind)
    records, _ = fetch({"accessions": ["NG_012337.1", "NM_003002.2"]})
    assert [r.accession_version for r in records] == ["NG_012337.1", "NM_003002.2"]
    assert records[1].text == (shared_data / "genbank" / "NM_003002.2.gb").read_text().strip("\n") + "\n"
    ids = [s.params["id"] for s in fake.seen("efetch")]
    assert ids == ["NG_012337.1,NM_003002.2", "NM_003002.2"]
    assert any("dropped an invalid record" in line for line in lines)
    assert_cache_clean(tmp_path / "cache", {"NG_012337.1", "NM_003002.2"})


def test_always_damaged_record_is_one_clear_error(fetch, fake, tmp_path):
    fake.add_fault("efetch", "cut_sequence", times=99)
    with pytest.raises(GenomedlError, match=r"accession NM_003002.2: NCBI sent an unusable record \(sequence has"):
        fetch({"accessions": ["NM_003002.2"]})
    assert_cache_clean(tmp_path / "cache", set())


@pytest.mark.parametrize("util", ["efetch", "esearch", "esummary", "elink"])
def test_error_inside_http_200_is_retried(fetch, fake, util, tmp_path):
    fake.add_fault(util, "error200")
    records, _ = fetch({"genes": [{"symbol": "SDHD", "taxon": 9606}]})
    assert records[0].accession_version == "NG_012337.1"
    assert [s.status for s in fake.seen(util)][:2] == [200, 200]
    assert_cache_clean(tmp_path / "cache", {"NG_012337.1"})


@pytest.mark.parametrize(("kind", "options"), [("empty", {}), ("error_text", {}), ("status", {"code": 400})])
def test_answer_without_records_is_asked_again(fetch, fake, kind, options, tmp_path):
    fake.add_fault("efetch", kind, **options)
    records, _ = fetch({"accessions": ["NG_012337.1"]})
    assert [r.accession_version for r in records] == ["NG_012337.1"] and len(fake.seen("efetch")) == 2
    assert_cache_clean(tmp_path / "cache", {"NG_012337.1"})


def test_permanent_error_inside_http_200_is_not_retried(fetch, fake):
    fake.add_fault("esummary", "error200", message="Invalid uid 6392 at position=0")
    with pytest.raises(GenomedlError, match=r"NCBI esummary rejected the request for gene:SDHD\[9606\]: Invalid uid"):
        fetch({"genes": [{"symbol": "SDHD", "taxon": 9606}]})
    assert len(fake.seen("esummary")) == 1


def test_short_batch_asks_only_for_the_missing_ids(fetch, fake, tmp_path):
    fake.add_fault("efetch", "drop")
    records, _ = fetch({"accessions": ["NG_012337.1", "NM_003002.2", "NM_004006.2"]})
    assert len(records) == 3
    assert [s.params["id"] for s in fake.seen("efetch")] == ["NG_012337.1,NM_003002.2,NM_004006.2", "NG_012337.1"]
    assert_cache_clean(tmp_path / "cache", {"NG_012337.1", "NM_003002.2", "NM_004006.2"})


def test_gene_whose_region_never_comes_back(fetch, fake, tmp_path):
    with pytest.raises(GenomedlError, match=r"region NC_000011.10:c2001466-1995176 of gene:H19\[9606\]"):
        fetch({"genes": [{"symbol": "H19", "taxon": 9606}]})
    assert_cache_clean(tmp_path / "cache", set())
