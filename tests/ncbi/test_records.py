"""GenBank validation on the real records, and on damaged copies of them."""

from __future__ import annotations

import pytest

from genomedl.sources.ncbi.records import InvalidRecord, check_record, split_answer


def test_every_real_record_passes(shared_data):
    for path in sorted((shared_data / "genbank").glob("*.gb")):
        (text,), rest = split_answer(path.read_text())
        record = check_record(text)
        assert not rest.strip() and text.endswith("//\n")
        assert record.length == int(text.split()[2]), path.name


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda t: t[:-3], "no '//' end marker"),
        (lambda t: t.replace("\nVERSION ", "\nXVERSION "), "no ACCESSION or no VERSION"),
        (lambda t: t.replace("15948 bp", "15949 bp", 1), "sequence has 15948 bases but LOCUS says 15949 bp"),
        (lambda t: t.split("\nORIGIN")[0] + "\n//\n", "no sequence"),
        (lambda t: "\n".join(t.split("\n")[:-10]) + "\n//\n", "but LOCUS says 15948 bp"),
    ],
)
def test_damaged_records_are_rejected(shared_data, damage, reason):
    text = (shared_data / "genbank" / "NG_012337.1.gb").read_text().strip("\n") + "\n"
    with pytest.raises(InvalidRecord, match=reason):
        check_record(damage(text))


def test_split_answer_keeps_a_cut_record_apart(shared_data):
    one = (shared_data / "genbank" / "NM_003002.2.gb").read_text()
    records, rest = split_answer(one + "\n" + one[:5000])
    assert len(records) == 1 and rest.lstrip().startswith("LOCUS")
