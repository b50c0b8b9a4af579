"""The JASPAR taxon follows the data: the GenBank records' taxonomy, else the source's taxon key."""

from __future__ import annotations

import pytest

from genomedl.sources.local import read_local_genbank
from genomedl.sources.taxa import jaspar_taxon, lineage_group


@pytest.mark.parametrize(
    "record, organism, group",
    [
        ("NG_012337.1.gb", "Homo sapiens", "vertebrates"),
        ("gg_avidin.gb", "Gallus gallus", "vertebrates"),
        ("sc_chrom1.gb", "Saccharomyces cerevisiae S288C", "fungi"),
    ],
)
def test_real_records_carry_their_group(shared_data, record, organism, group):
    (row,) = [r.row for r in read_local_genbank([str(shared_data / "genbank" / record)])]
    assert row["organism"] == organism and lineage_group(row["lineage"]) == group, row["lineage"]
    chosen = jaspar_taxon(None, None, [row], "d")
    assert chosen["tax_groups"] == [group] and organism in chosen["reason"] and chosen["note"] is None


def test_the_rules_of_choice():
    plant = {"organism": "Arabidopsis thaliana", "lineage": "Eukaryota; Viridiplantae; Streptophyta; Brassicaceae"}
    human = {"organism": "Homo sapiens", "lineage": "Eukaryota; Metazoa; Chordata; Vertebrata; Mammalia"}
    # records decide; several organisms give several groups
    assert jaspar_taxon(None, None, [plant, human], "d")["tax_groups"] == ["plants", "vertebrates"]
    # no taxonomy (a reference or labelled source): the source's taxon key
    local = {"organism": "", "lineage": ""}
    chosen = jaspar_taxon(None, "plants", [local], "thaliana")
    assert chosen == {"tax_groups": ["plants"], "reason": "from datasets.thaliana.source.taxon: plants", "note": None}
    # nothing known: vertebrates, with a note that names the key to set
    fallback = jaspar_taxon(None, None, [local], "thaliana")
    assert fallback["tax_groups"] == ["vertebrates"] and "set datasets.thaliana.source.taxon" in fallback["note"]
    # a configured group is used, and a mismatch with the records' organism gives a note
    mismatch = jaspar_taxon(["vertebrates"], None, [plant], "d")
    assert mismatch["tax_groups"] == ["vertebrates"] and "leaves out plants" in mismatch["note"]
    assert "Arabidopsis thaliana" in mismatch["note"]
    assert jaspar_taxon(["plants", "vertebrates"], None, [plant], "d")["note"] is None
