"""Variant effects on a real reference (NG_012337.1): multi-allelic sites, insertions and deletions, a
variant at the contig end, REF mismatches, unknown chromosomes, symbolic and long alleles; TSV, VCF and BCF."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pysam
import pytest

from genomedl.prediction.variants import EPS
from genomedl.stages.predict import run_predict
from helpers import LENGTH, REFERENCE, cut, model_probs


def read_effects(path) -> pd.DataFrame:
    """variants.tsv with empty cells (alleles not scored) as NaN."""
    return pd.read_csv(path, sep="\t", dtype={"id": str, "ref": str, "alt": str, "genome_ref": str})


def logit(p):
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))


@pytest.fixture(scope="module")
def vcf(reference, tmp_path_factory):
    """A sorted VCF: (id, POS, REF, ALTs) chosen against the real sequence, and the expected status per ALT."""
    with pysam.FastaFile(str(reference)) as fasta:
        seq = fasta.fetch(REFERENCE)
    size = len(seq)
    other = lambda b: "A" if b != "A" else "C"  # noqa: E731
    cases = [
        ("near_start_del", 2, seq[1:4], [seq[1]], ["near_end"]),
        ("snv", 500, seq[499], [other(seq[499])], ["ok"]),
        ("multi", 1000, seq[999], [b for b in "ACGT" if b != seq[999]], ["ok"] * 3),
        ("ins", 2000, seq[1999], [seq[1999] + "GATTACA"], ["ok"]),
        ("del", 3000, seq[2999:3007], [seq[2999]], ["ok"]),
        ("indel_and_snv", 3500, seq[3499:3501], [seq[3499], other(seq[3499]) + seq[3500]], ["ok", "ok"]),
        ("mismatch", 4000, other(seq[3999]), ["T"], ["ref_mismatch"]),
        ("symbolic", 5000, seq[4999], ["<DEL>", "*"], ["symbolic", "symbolic"]),
        ("long", 6000, seq[5999], [seq[5999] + "A" * 40], ["long_indel"]),
        ("end", size - 1, seq[size - 2], [other(seq[size - 2])], ["near_end"]),
    ]
    lines = [
        "##fileformat=VCFv4.2",
        f"##contig=<ID={REFERENCE},length={size}>",
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    for name, pos, ref, alts, _ in cases:
        lines.append(f"{REFERENCE}\t{pos}\t{name}\t{ref}\t{','.join(alts)}\t50\tPASS\tDP=7")
    path = tmp_path_factory.mktemp("vcf") / "variants.vcf"
    path.write_text("\n".join(lines) + "\n")
    expected = {(name, alt): status for name, _, _, alts, statuses in cases for alt, status in zip(alts, statuses)}
    return path, expected


def windows_of(fasta, pos: int, ref: str, alt: str) -> tuple[str, str]:
    """Reference and alternative windows as docs/predict.md lays them out, cut with pysam."""
    pos0, i0 = pos - 1, LENGTH // 2 - max(len(ref), len(alt)) // 2
    ref_window = cut(fasta, REFERENCE, pos0 - i0, pos0 - i0 + LENGTH)
    right = LENGTH - i0 - len(alt)
    alt_window = (
        cut(fasta, REFERENCE, pos0 - i0, pos0) + alt + cut(fasta, REFERENCE, pos0 + len(ref), pos0 + len(ref) + right)
    )
    return ref_window, alt_window


@pytest.fixture(scope="module")
def scored(vcf, model_dir, reference, tmp_path_factory):  # noqa: F811
    out = tmp_path_factory.mktemp("effects")
    summary = run_predict(
        model_dir,
        out,
        "vcf",
        vcf[0],
        {"max_allele": 30, "top": 4, "max_ref_mismatch": 0.1},
        reference=reference,
        log=lambda m: None,
    )
    return out, summary


def test_statuses_and_effects_match_independently_cut_windows(vcf, scored, model_dir, reference):  # noqa: F811
    out, summary = scored
    table = read_effects(out / "variants.tsv")
    assert dict(zip(zip(table["id"], table["alt"]), table["status"])) == vcf[1]
    assert table.columns[:7].tolist() == ["chrom", "pos", "id", "ref", "alt", "status", "genome_ref"]
    mismatch = table[table["status"] == "ref_mismatch"].iloc[0]
    with pysam.FastaFile(str(reference)) as fasta:
        assert mismatch["genome_ref"] == fasta.fetch(REFERENCE, 3999, 4000) != mismatch["ref"]
        done = table[table["status"].isin(["ok", "near_end"])]
        pairs = [windows_of(fasta, p, r, a) for p, r, a in zip(done["pos"], done["ref"], done["alt"])]
    assert all(len(r) == len(a) == LENGTH for r, a in pairs)
    p_ref = model_probs(model_dir, [r for r, _ in pairs])
    p_alt = model_probs(model_dir, [a for _, a in pairs])
    for i, c in enumerate(("bg", "site")):
        np.testing.assert_allclose(done[f"ref_p_{c}"], p_ref[:, i], atol=1e-6)
        np.testing.assert_allclose(done[f"alt_p_{c}"], p_alt[:, i], atol=1e-6)
        np.testing.assert_allclose(done[f"delta_p_{c}"], p_alt[:, i] - p_ref[:, i], atol=2e-6)
        np.testing.assert_allclose(done[f"delta_logodds_{c}"], logit(p_alt[:, i]) - logit(p_ref[:, i]), atol=1e-5)
    assert table.loc[~table["status"].isin(["ok", "near_end"]), "delta_p_site"].isna().all()
    assert (done["delta_p_site"].abs() > 0).all()
    assert summary["status_counts"] == {
        s: list(vcf[1].values()).count(s)
        for s in ("ok", "near_end", "ref_mismatch", "unknown_contig", "symbolic", "invalid_allele", "long_indel")
    }
    strongest = done.sort_values("max_abs_delta_p", ascending=False).head(4)
    assert [(e["id"], e["alt"]) for e in summary["top_effects"]] == list(zip(strongest["id"], strongest["alt"]))


def test_output_vcf_keeps_every_record_and_declares_its_fields(vcf, scored):
    out, _ = scored
    table = read_effects(out / "variants.tsv")
    with pysam.VariantFile(str(out / "variants.vcf.gz")) as reader:
        header = reader.header
        assert {"GDL_STATUS", "GDL_GENOME_REF", "GDL_DP_site", "GDL_DLO_bg", "DP"} <= set(header.info)
        assert header.info["GDL_DP_site"].number == "A"
        records = list(reader)
        assert [r.id for r in records] == list(dict.fromkeys(table["id"]))
        assert all(r.info["DP"] == 7 for r in records)  # input INFO kept
        for rec in records:
            rows = table[table["id"] == rec.id]
            assert list(rec.info["GDL_STATUS"]) == rows["status"].tolist()
            if "GDL_DP_site" in rec.info:
                got = np.array([np.nan if v is None else v for v in rec.info["GDL_DP_site"]], dtype=float)
                np.testing.assert_allclose(got, rows["delta_p_site"], atol=1e-5)
            else:
                assert not rows["status"].isin(["ok", "near_end"]).any()
        assert dict(records[6].info)["GDL_GENOME_REF"] != records[6].ref  # the mismatch
        assert [r.id for r in reader.fetch(REFERENCE, 990, 2005)] == ["multi", "ins"]  # tabix index works


def test_bcf_input_scores_the_same(vcf, scored, model_dir, reference, tmp_path):  # noqa: F811
    bcf = tmp_path / "variants.bcf"
    with pysam.VariantFile(str(vcf[0])) as reader, pysam.VariantFile(str(bcf), "wb", header=reader.header) as w:
        for rec in reader:
            if rec.id != "symbolic":  # pysam cannot write <DEL> records to BCF; bcftools can
                w.write(rec)
    run_predict(
        model_dir,
        tmp_path / "out",
        "vcf",
        bcf,
        {"max_allele": 30, "top": 0, "max_ref_mismatch": 0.1},
        reference=reference,
        log=lambda m: None,
    )
    expected = read_effects(scored[0] / "variants.tsv")
    pd.testing.assert_frame_equal(
        read_effects(tmp_path / "out" / "variants.tsv"), expected[expected["id"] != "symbolic"].reset_index(drop=True)
    )


class FetchSpy:
    """An open reference that records the span of every ``fetch``."""

    def __init__(self, reference):
        self.reference, self.spans = reference, []

    def fetch(self, *args):
        self.spans.append(args)
        return self.reference.fetch(*args)

    def __getattr__(self, name):
        return getattr(self.reference, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.reference.close()


def test_alleles_read_their_own_bases_not_whole_contigs(tmp_path, model_dir, arabidopsis_2mb, monkeypatch):
    """SNVs, insertions and deletions spread over the real 2-Mb A. thaliana slice, one at each end: every read
    of the reference spans one allele's window (or its REF), and the scores equal those of windows cut from the
    whole contig held in memory, as scoring did before."""
    from genomedl.prediction import variants

    fasta = tmp_path / "chr1.fa"
    shutil.copy(arabidopsis_2mb["fasta"], fasta)
    pysam.faidx(str(fasta))
    with pysam.FastaFile(str(fasta)) as reference:
        chrom, seq = reference.references[0], reference.fetch(reference.references[0]).upper()
    rng = np.random.default_rng(5)
    positions = np.r_[1, np.sort(rng.choice(np.arange(100, len(seq) - 100), 30, replace=False)), len(seq) - 3]
    lines = [
        "##fileformat=VCFv4.2",
        f"##contig=<ID={chrom},length={len(seq)}>",
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    for k, pos in enumerate(positions):
        base = seq[pos - 1]
        ref, alt = [(base, "C" if base != "C" else "G"), (base, base + "GATT"), (seq[pos - 1 : pos + 3], base)][k % 3]
        lines.append(f"{chrom}\t{pos}\tv{k}\t{ref}\t{alt}\t50\tPASS\t.")
    (tmp_path / "v.vcf").write_text("\n".join(lines) + "\n")
    opened = []
    monkeypatch.setattr(
        variants, "open_reference", lambda path: opened.append(FetchSpy(pysam.FastaFile(str(path)))) or opened[-1]
    )
    run_predict(
        model_dir,
        tmp_path / "out",
        "vcf",
        tmp_path / "v.vcf",
        {"max_ref_mismatch": 0.0},
        reference=fasta,
        log=lambda m: None,
    )
    spans = opened[0].spans
    assert len(spans) == 2 * len(positions) and all(len(a) == 3 and a[2] - a[1] <= LENGTH + 3 for a in spans)
    table = read_effects(tmp_path / "out" / "variants.tsv")
    assert table["status"].tolist() == ["near_end"] + ["ok"] * 30 + ["near_end"]
    padded = "N" * LENGTH + seq + "N" * LENGTH
    cut_whole = lambda start, end: padded[start + LENGTH : end + LENGTH]  # noqa: E731
    pairs = []
    for pos, ref, alt in zip(table["pos"], table["ref"], table["alt"]):
        begin = pos - 1 - (LENGTH // 2 - max(len(ref), len(alt)) // 2)
        left = cut_whole(begin, pos - 1)
        right = cut_whole(pos - 1 + len(ref), pos - 1 + len(ref) + LENGTH - len(left) - len(alt))
        pairs.append((cut_whole(begin, begin + LENGTH), left + alt + right))
    p_ref, p_alt = model_probs(model_dir, [r for r, _ in pairs]), model_probs(model_dir, [a for _, a in pairs])
    np.testing.assert_allclose(table[["ref_p_bg", "ref_p_site"]], p_ref, atol=1e-6)
    np.testing.assert_allclose(table[["alt_p_bg", "alt_p_site"]], p_alt, atol=1e-6)
