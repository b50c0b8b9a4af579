"""Accessions, genes and queries resolved against the fake E-utilities server; cache and offline mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from genomedl.errors import GenomedlError

SDHD = {"symbol": "SDHD", "taxon": 9606}
REFSEQGENE_QUERY = "Homo sapiens[orgn] AND refseqgene[filter]"


def shared_record(shared_data, name):
    return (shared_data / "genbank" / f"{name}.gb").read_text().strip("\n") + "\n"


def test_accessions_with_and_without_version(fetch, fake, shared_data, tmp_path):
    records, genes = fetch({"accessions": ["NG_012337", "nm_003002.2"]})
    assert [r.accession_version for r in records] == ["NG_012337.1", "NM_003002.2"]
    assert [r.query for r in records] == ["accession:NG_012337", "accession:NM_003002.2"]
    assert records[0].text == shared_record(shared_data, "NG_012337.1")
    assert records[1].gene_id == "6392" and records[1].symbol == "SDHD"  # the record's only gene
    assert all(r.taxon_id == "9606" and r.organism == "Homo sapiens" for r in records)
    assert all(r.retrieved_at.endswith("Z") for r in records) and genes == []
    (efetch,) = fake.seen("efetch")
    assert efetch.params["id"] == "NG_012337,NM_003002.2"
    assert efetch.params["rettype"] == "gbwithparts" and efetch.params["retmode"] == "text"
    assert efetch.params["tool"] == "genomedl" and efetch.params["email"] == "tests@example.org"
    assert (tmp_path / "cache" / "nuccore" / "unversioned" / "NG_012337.json").is_file()


def test_gene_symbol_to_refseqgene(fetch, fake, shared_data):
    records, genes = fetch({"genes": [SDHD]})
    (record,) = records
    assert record.accession_version == "NG_012337.1" and record.query == "gene:SDHD[9606]"
    assert (record.gene_id, record.symbol) == ("6392", "SDHD")
    assert record.text == shared_record(shared_data, "NG_012337.1")
    assert genes == [
        {
            "gene_id": "6392",
            "symbol": "SDHD",
            "description": "succinate dehydrogenase complex subunit D",
            "chromosome": "11",
            "location": "11q23.1",
            "exon_count": 6,
            "taxon_id": "9606",
            "organism": "Homo sapiens",
        }
    ]
    assert fake.seen("esearch")[0].params["term"] == "SDHD[sym] AND 9606[taxid]"
    assert fake.seen("esearch")[0].params["db"] == "gene"
    (elink,) = fake.seen("elink")
    assert elink.params["linkname"] == "gene_nuccore_refseqgene" and elink.params["dbfrom"] == "gene"
    assert fake.seen("efetch")[0].params["id"] == "NG_012337.1"


def test_gene_id_entry_needs_no_search(fetch, fake):
    records, genes = fetch({"genes": [{"gene_id": 675}]})
    assert [r.accession_version for r in records] == ["NG_012772.1"]
    assert records[0].query == "gene:675" and genes[0]["symbol"] == "BRCA2"
    assert fake.seen("esearch") == []


def test_gene_without_refseqgene_gets_its_genomic_region(fetch, fake):
    records, genes = fetch({"genes": [{"symbol": "DMD", "taxon": 9606}]})
    (record,) = records
    assert record.accession_version == "NC_000023.11:c33344609-31117221"
    assert "REGION: complement(31117221..33344609)" in record.text
    efetch = fake.seen("efetch")[0].params
    assert (efetch["seq_start"], efetch["seq_stop"], efetch["strand"]) == ("31117221", "33344609", "2")
    assert genes[0]["exon_count"] == 79


def test_gene_without_refseqgene_or_placement_gets_refseq_rnas(fetch, fake):
    fake.genes["1756"]["genomicinfo"] = []
    records, _ = fetch({"genes": [{"symbol": "DMD", "taxon": 9606}]})
    assert [r.accession_version for r in records] == ["NM_004006.2"]
    assert [s.params["linkname"] for s in fake.seen("elink")] == ["gene_nuccore_refseqgene", "gene_nuccore_refseqrna"]


def test_unknown_gene_symbol_is_one_clear_error(fetch):
    with pytest.raises(GenomedlError, match=r"gene:NOSUCHGENE\[9606\].*not found.*source.genes"):
        fetch({"genes": [{"symbol": "NOSUCHGENE", "taxon": 9606}]})


def test_query_uses_search_history(fetch, fake):
    records, _ = fetch({"query": {"term": REFSEQGENE_QUERY, "max_records": 3}})
    assert [r.accession_version for r in records] == ["NG_008939.1", "NG_009105.1", "NG_012337.1"]
    assert all(r.query == f"query:{REFSEQGENE_QUERY}" for r in records)
    (search,) = fake.seen("esearch")
    assert (search.params["db"], search.params["usehistory"], search.params["retmax"]) == ("nuccore", "y", "3")
    (efetch,) = fake.seen("efetch")
    assert efetch.params["WebEnv"] == "MCID_fake1" and efetch.params["query_key"] == "1"
    assert (efetch.params["retstart"], efetch.params["retmax"]) == ("0", "3")


def test_query_fetches_in_batches_of_200(fetch, fake):
    fake.queries["clones"] = fake.add_clones(450)
    records, _ = fetch({"query": {"term": "clones", "max_records": 1000}})
    assert len(records) == 450
    assert [(s.params["retstart"], s.params["retmax"]) for s in fake.seen("efetch")] == [
        ("0", "200"),
        ("200", "200"),
        ("400", "50"),
    ]


def test_long_id_lists_go_in_batches_of_200_by_post(fetch, fake):
    clones = fake.add_clones(450)
    records, _ = fetch({"accessions": clones})
    assert [r.accession_version for r in records] == clones
    seen = fake.seen("efetch")
    assert [len(s.params["id"].split(",")) for s in seen] == [200, 200, 50]
    assert [s.method for s in seen] == ["POST", "POST", "GET"]  # 50 ids still fit in a URL


def test_rerun_fetches_only_missing_records(fetch, fake):
    first, _ = fetch({"accessions": ["NG_012337"], "genes": [SDHD]})
    before = len(fake.seen())
    again, _ = fetch({"accessions": ["NG_012337", "NM_003002.2"], "genes": [SDHD]})
    new = fake.seen()[before:]
    assert [(s.util, s.params.get("id")) for s in new] == [("efetch", "NM_003002.2")]
    assert again[0].retrieved_at == first[0].retrieved_at and again[0].text == first[0].text
    assert (again[0].gene_id, again[0].symbol) == ("6392", "SDHD")  # SDHD links to the same record


def test_offline_reads_only_the_cache(fetch, fake):
    online, genes = fetch(
        {
            "accessions": ["NG_012337", "NM_003002.2"],
            "genes": [SDHD],
            "query": {"term": REFSEQGENE_QUERY, "max_records": 2},
        }
    )
    before = len(fake.seen())
    offline, offline_genes = fetch(
        {
            "accessions": ["NG_012337", "NM_003002.2"],
            "genes": [SDHD],
            "query": {"term": REFSEQGENE_QUERY, "max_records": 2},
        },
        offline=True,
    )
    assert len(fake.seen()) == before
    assert offline == online and offline_genes == genes


def test_offline_names_every_missing_item_in_one_error(fetch, fake):
    fetch({"accessions": ["NG_012337.1"]})
    before = len(fake.seen())
    with pytest.raises(GenomedlError) as caught:
        fetch(
            {
                "accessions": ["NG_012337.1", "NM_003002.2", "NG_012772"],
                "genes": [{"gene_id": 5096}],
                "query": {"term": REFSEQGENE_QUERY, "max_records": 2},
            },
            offline=True,
        )
    message = str(caught.value)
    assert "\n" not in message and "offline" in message
    for missing in ("NM_003002.2", "NG_012772", "gene:5096", f"query:{REFSEQGENE_QUERY}"):
        assert missing in message
    assert "NG_012337.1" not in message.split("lacks", 1)[1]
    assert len(fake.seen()) == before


@pytest.mark.parametrize(
    "spec",
    [
        {"accessions": ["NG 012337"]},
        {"genes": [{"symbol": "SDHD"}]},
        {"query": {"term": ""}},
        {"accession": ["NG_012337"]},
    ],
)
def test_bad_spec_is_one_clear_error(fetch, fake, spec):
    with pytest.raises(GenomedlError):
        fetch(spec)
    assert fake.seen() == []


def test_online_fetch_needs_an_email(fetch):
    with pytest.raises(GenomedlError, match="ncbi.email"):
        fetch({"accessions": ["NG_012337.1"]}, email="")


def test_example_config_offline_names_all_twelve_genes(fetch, fake):
    import yaml

    config = yaml.safe_load((Path(__file__).parents[2] / "config" / "ncbi_example.yaml").read_text())
    source = config["datasets"]["ncbi_panel"]["source"]
    with pytest.raises(GenomedlError) as caught:
        fetch(source, offline=True)
    assert "lacks 12 item(s)" in str(caught.value) and "gene:LDLR[9606]" in str(caught.value)
    assert fake.seen() == []


def test_query_rerun_with_same_hits_only_searches(fetch, fake):
    first, _ = fetch({"query": {"term": REFSEQGENE_QUERY, "max_records": 2}})
    before = len(fake.seen())
    again, _ = fetch({"query": {"term": REFSEQGENE_QUERY, "max_records": 2}})
    assert [s.util for s in fake.seen()[before:]] == ["esearch"] and again == first
