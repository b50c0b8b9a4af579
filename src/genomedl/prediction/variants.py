"""Variant effects: score the reference and the alternative window of every ALT allele of a VCF/BCF.

Windows (model length ``L``): both windows share the left flank and the allele starts at offset
``i0 = L // 2 - max(len(REF), len(ALT)) // 2``, so the longer allele sits at the window centre (an
SNV at offset ``L // 2``). The reference window is ``genome[pos0 - i0, pos0 - i0 + L)``; the
alternative window is the same left flank, then ALT, then the genome after REF, as far as needed to
make ``L`` bp (an insertion takes less right flank, a deletion more). Bases beyond a contig end are
N, and such alleles get status ``near_end``.

Statuses, per allele: ``ok``, ``near_end`` (scored), ``ref_mismatch`` (REF differs from the
reference genome, whose bases are reported in ``genome_ref``; not scored; more than
``max_ref_mismatch`` of them stop the run), ``unknown_contig`` (on a contig the reference lacks,
e.g. alternate contigs or chrM; counted and named in the summary; the run stops when no record's contig
is in the reference, or on any with ``unknown_contigs: stop``), ``symbolic`` (``<DEL>``, breakends,
``*``, missing ALT), ``invalid_allele`` (letters other than ACGTN) and ``long_indel`` (an allele longer
than ``max_allele`` bp).
"""

from __future__ import annotations

import gzip
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from genomedl import plotting
from genomedl.console import log
from genomedl.encoding.tokens import bytes_to_tokens
from genomedl.errors import GenomedlError
from genomedl.integrity import quiet_htslib, require_bgzip
from genomedl.prediction.inputs import check_contigs, fetch_tokens, open_reference
from genomedl.scoring import Progress, Scorer
from genomedl.tables import write_tsv

SCORED = ("ok", "near_end")
STATUSES = SCORED + ("ref_mismatch", "unknown_contig", "symbolic", "invalid_allele", "long_indel")
EPS = 1e-6  # probabilities are clipped to [EPS, 1 - EPS] before log-odds
ALLELE = re.compile(r"^[ACGTNacgtn]+$")
INFO_FIELDS = {
    "ref_p": ("REF_P", "probability of the reference window"),
    "alt_p": ("ALT_P", "probability of the alternative window"),
    "delta_p": ("DP", "change in probability, alt - ref"),
    "delta_logodds": ("DLO", "change in log-odds, alt - ref"),
}


def info_id(name: str) -> str:
    """A class name as part of a VCF INFO key (letters, digits, '_' and '.')."""
    return re.sub(r"[^0-9A-Za-z_.]", "_", name)


def read_variants(path: Path) -> tuple[str, list]:
    """(header text, records) of a VCF/BCF (plain or bgzip). The header text is taken after reading, so it
    declares the contigs and keys that htslib added for records that use undeclared ones."""
    if not Path(path).exists():
        raise GenomedlError(f"{path}: VCF not found; fix the path")
    require_bgzip(path, "the VCF")
    check_vcf_header(path)
    try:
        with quiet_htslib(), pysam.VariantFile(str(path)) as handle:
            records = list(handle)
            header = str(handle.header)
    except (OSError, ValueError) as exc:
        raise GenomedlError(
            f"{path}: not a readable VCF/BCF ({' '.join(str(exc).split())[:120]}); check the file with bcftools view"
        ) from None
    if "##INFO=<ID=GDL_STATUS," in header:
        raise GenomedlError(f"{path}: already has GDL_ INFO fields from genomedl; score the original VCF")
    check_sorted(path, records)
    return header, records


def check_vcf_header(path: Path) -> None:
    """Refuse a text VCF (plain or bgzip) whose first line is not ``##fileformat=VCF...`` or ``#CHROM``."""
    with open(path, "rb") as probe:
        packed = probe.read(4)
    if packed[:3] == b"BCF":
        return
    with gzip.open(path, "rb") if packed[:2] == b"\x1f\x8b" else open(path, "rb") as handle:
        first = handle.readline(200)
    if first[:3] == b"BCF" or first.startswith((b"##fileformat=VCF", b"#CHROM")):
        return
    raise GenomedlError(
        f"{path}: no VCF header (the file begins {first[:40].decode('ascii', 'replace').rstrip()!r}); a VCF begins "
        "with ##fileformat=VCFv4.2 and a #CHROM POS ID REF ALT QUAL FILTER INFO line: add them"
    )


def check_ref_mismatch(table: pd.DataFrame, path: Path, reference: Path, limit: float, log) -> None:
    """Stop when more than ``limit`` of the checked alleles have a REF the reference does not (the VCF was
    called against another reference); below that, count them in a warning."""
    checked = int(table["status"].isin(SCORED + ("ref_mismatch", "long_indel")).sum())
    wrong = int((table["status"] == "ref_mismatch").sum())
    if not wrong:
        return
    first = table[table["status"] == "ref_mismatch"].iloc[0]
    where = f"{wrong} of {checked} alleles ({wrong / checked:.1%}; the first {first['chrom']}:{first['pos']})"
    if wrong / checked > limit:
        raise GenomedlError(
            f"{path}: REF differs from {reference} at {where}, above predict.max_ref_mismatch ({limit:g}); "
            "the VCF was called against another reference: give that reference"
        )
    log(f"warning: {path}: REF differs from {reference} at {where}; those alleles are not scored")


def contigs_not_in(records: list, sizes: dict[str, int], path: Path, reference: Path, mode: str, log) -> dict:
    """Records per contig that the reference lacks (``sizes``), in VCF order, announced in one warning; stops when
    no record's contig is in the reference, or on any with ``mode`` stop (predict.unknown_contigs)."""
    counts = Counter(rec.chrom for rec in records if rec.chrom not in sizes)
    if counts and (mode == "stop" or counts.total() == len(records)):
        check_contigs(list(counts), sizes, path, reference, skip=mode == "stop")
    if counts:
        listed = ", ".join(f"{name} ({n})" for name, n in list(counts.items())[:5])
        more = f" and {len(counts) - 5} more (summary.json)" if len(counts) > 5 else ""
        log(
            f"warning: {path}: {counts.total()} of {len(records)} records are on {len(counts)} contig(s) not in "
            f"{reference}, not scored (status unknown_contig): {listed}{more}; give a reference with those contigs "
            "to score them"
        )
    return dict(counts)


def check_sorted(path: Path, records: list) -> None:
    """Records must come contig by contig, by position within each (the output VCF gets a tabix index)."""
    done: set[str] = set()
    for number, (before, rec) in enumerate(zip([None, *records], records), start=1):
        if before is not None and rec.chrom == before.chrom and rec.pos < before.pos:
            raise GenomedlError(
                f"{path}: record {number} ({rec.chrom}:{rec.pos}) comes after {before.chrom}:"
                f"{before.pos}; the VCF must be sorted: sort it with bcftools sort"
            )
        if before is not None and rec.chrom != before.chrom:
            done.add(before.chrom)
            if rec.chrom in done:
                raise GenomedlError(
                    f"{path}: record {number} returns to contig {rec.chrom} after another one; "
                    "the VCF must be sorted: sort it with bcftools sort"
                )


def allele_table(records: list, sizes: dict[str, int]) -> pd.DataFrame:
    """One row per ALT allele: record index, chrom, pos (1-based), id, ref, alt, status before sequence checks
    (``unknown_contig`` for a chrom not in ``sizes``, the reference's contig lengths)."""
    rows = []
    for index, rec in enumerate(records):
        for alt in rec.alts or (None,):
            if rec.chrom not in sizes:
                status = "unknown_contig"
            elif alt is None or alt in ("*", ".") or alt.startswith("<") or "[" in alt or "]" in alt:
                status = "symbolic"
            elif not ALLELE.match(rec.ref) or not ALLELE.match(alt):
                status = "invalid_allele"
            else:
                status = ""
            rows.append((index, rec.chrom, rec.pos, rec.id or ".", rec.ref, alt or ".", status))
    return pd.DataFrame(rows, columns=["record", "chrom", "pos", "id", "ref", "alt", "status"])


def variant_windows(
    flat: np.ndarray, at: np.ndarray, ref_len: np.ndarray, alts: list[str], length: int
) -> tuple[np.ndarray, np.ndarray]:
    """Reference and alternative windows ``[n, L]`` (tokens) of alleles whose genome from their window start
    (``pos0 - i0``) on lies at ``flat[at:]`` (see the module docstring for the layout)."""
    alt_tok = [bytes_to_tokens(a.encode(), "ALT allele") for a in alts]
    alt_len = np.array([len(a) for a in alt_tok], dtype=np.int64)
    i0 = length // 2 - np.maximum(ref_len, alt_len) // 2
    j = np.arange(length)
    ref_w = flat[at[:, None] + j]
    after = j >= (i0 + alt_len)[:, None]
    alt_w = flat[at[:, None] + j + np.where(after, (ref_len - alt_len)[:, None], 0)]
    inside = (j >= i0[:, None]) & ~after
    alleles = np.concatenate(alt_tok) if alt_tok else np.zeros(0, np.uint8)
    first = np.cumsum(alt_len) - alt_len
    alt_w[inside] = alleles[(first[:, None] + j - i0[:, None])[inside]]
    return ref_w, alt_w


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def check_and_window(table: pd.DataFrame, reference, ref_path: Path, length: int, max_allele: int):
    """Fill the status and genome_ref of every allele; windows of the scorable ones:
    (row indices, reference windows, alternative windows).

    Each allele reads its own bases from the indexed reference (its REF, then its window span): memory and
    reading grow with the number of alleles, never with a contig."""
    table["genome_ref"] = ""
    here = table.index[table["status"] == ""]
    chrom, pos0 = table.loc[here, "chrom"].tolist(), table.loc[here, "pos"].to_numpy(np.int64) - 1
    ref, alt = table.loc[here, "ref"].tolist(), table.loc[here, "alt"].tolist()
    genome = [reference.fetch(c, p, p + len(r)).upper() if p >= 0 else "" for c, p, r in zip(chrom, pos0, ref)]
    mismatch = np.array([g != r.upper() for g, r in zip(genome, ref)], dtype=bool)
    table.loc[here[mismatch], "status"] = "ref_mismatch"
    table.loc[here[mismatch], "genome_ref"] = np.array(genome, dtype=object)[mismatch]
    longest = np.array([max(len(r), len(a)) for r, a in zip(ref, alt)], dtype=np.int64)
    table.loc[here[~mismatch & (longest > max_allele)], "status"] = "long_indel"
    keep = np.flatnonzero(~mismatch & (longest <= max_allele))
    if not len(keep):
        return np.zeros(0, np.int64), np.zeros((0, length), np.uint8), np.zeros((0, length), np.uint8)
    ref_len = np.array([len(ref[i]) for i in keep], dtype=np.int64)
    alt_len = np.array([len(alt[i]) for i in keep], dtype=np.int64)
    begin = pos0[keep] - (length // 2 - np.maximum(ref_len, alt_len) // 2)
    reach = length + np.maximum(ref_len - alt_len, 0)
    spans = [
        fetch_tokens(reference, chrom[i], int(b), int(b + r), f"{ref_path}: {chrom[i]}")
        for i, b, r in zip(keep, begin, reach)
    ]
    at = np.cumsum(reach) - reach
    ref_w, alt_w = variant_windows(np.concatenate(spans), at, ref_len, [alt[i] for i in keep], length)
    size = np.array([reference.get_reference_length(chrom[i]) for i in keep], dtype=np.int64)
    table.loc[here[keep], "status"] = np.where((begin < 0) | (begin + reach > size), "near_end", "ok")
    return here[keep].to_numpy(), ref_w, alt_w


def effect_columns(
    table: pd.DataFrame, rows: np.ndarray, p_ref: np.ndarray, p_alt: np.ndarray, classes: list[str]
) -> pd.DataFrame:
    """Per class: ref_p, alt_p, delta_p (alt - ref), delta_logodds; then max_abs_delta_p and top_class."""
    n = len(table)
    full = {name: np.full((n, len(classes)), np.nan) for name in ("ref", "alt")}
    full["ref"][rows], full["alt"][rows] = p_ref, p_alt
    delta, dlo = full["alt"] - full["ref"], logit(full["alt"]) - logit(full["ref"])
    columns = {}
    for i, c in enumerate(classes):
        columns.update(
            {
                f"ref_p_{c}": full["ref"][:, i].round(6),
                f"alt_p_{c}": full["alt"][:, i].round(6),
                f"delta_p_{c}": delta[:, i].round(6),
                f"delta_logodds_{c}": dlo[:, i].round(6),
            }
        )
    scored = ~np.isnan(delta).any(1)
    top = np.where(scored, np.abs(np.nan_to_num(delta)).argmax(1), 0)
    columns["max_abs_delta_p"] = np.where(scored, np.abs(delta)[np.arange(n), top], np.nan).round(6)
    columns["top_class"] = np.where(scored, np.asarray(classes, dtype=object)[top], "")
    return pd.concat([table.reset_index(drop=True), pd.DataFrame(columns)], axis=1)


def info_header(scorer: Scorer) -> list[str]:
    """The header lines that declare the GDL_ INFO fields (and name the model)."""
    lines = [
        f"##genomedl_model=<ID={info_id(scorer.name)},arch={scorer.arch},window={scorer.length},"
        f"strands={'both' if scorer.both_strands else 'forward'}>",
        '##INFO=<ID=GDL_STATUS,Number=A,Type=String,Description="genomedl: scoring status of each ALT allele '
        '(ok, near_end, ref_mismatch, unknown_contig, symbolic, invalid_allele, long_indel)">',
        "##INFO=<ID=GDL_GENOME_REF,Number=1,Type=String,Description=\"genomedl: the reference genome's bases "
        'at the position of REF, where they differ from REF">',
    ]
    for c in scorer.classes:
        for key, what in INFO_FIELDS.values():
            lines.append(
                f"##INFO=<ID=GDL_{key}_{info_id(c)},Number=A,Type=Float,"
                f'Description="genomedl {info_id(scorer.name)}: class {info_id(c)}, {what}">'
            )
    return lines


def info_text(part: pd.DataFrame, classes: list[str]) -> str:
    """The GDL_ INFO entries of one record's alleles (``.`` for alleles that were not scored)."""
    entries = [f"GDL_STATUS={','.join(part['status'])}"]
    genome = [g for g in part["genome_ref"] if g]
    if genome:
        entries.append(f"GDL_GENOME_REF={genome[0]}")
    if part["status"].isin(SCORED).any():
        for c in classes:
            for column, (key, _) in INFO_FIELDS.items():
                values = ",".join("." if np.isnan(v) else f"{v:.6g}" for v in part[f"{column}_{c}"])
                entries.append(f"GDL_{key}_{info_id(c)}={values}")
    return ";".join(entries)


def write_vcf(header: str, records: list, effects: pd.DataFrame, scorer: Scorer, out: Path) -> None:
    """Every input record, its INFO extended with the GDL_ fields, bgzipped with a tabix index (atomically)."""
    lines = header.rstrip("\n").split("\n")
    text = lines[:-1] + info_header(scorer) + lines[-1:]
    groups = effects.groupby("record", sort=True)
    for index, rec in enumerate(records):
        fields = str(rec).rstrip("\n").split("\t")
        fields[7] = ";".join(
            x for x in (fields[7] if fields[7] != "." else "", info_text(groups.get_group(index), scorer.classes)) if x
        )
        text.append("\t".join(fields))
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".variants.") as tmp:
        plain, packed = Path(tmp) / "variants.vcf", Path(tmp) / out.name
        plain.write_text("\n".join(text) + "\n")
        pysam.tabix_compress(str(plain), str(packed), force=True)
        try:
            pysam.tabix_index(str(packed), preset="vcf", force=True)
        except (OSError, ValueError) as exc:
            raise GenomedlError(
                f"{out}: cannot index the output ({' '.join(str(exc).split())[:100]}); is the "
                "input VCF sorted? sort it with bcftools sort"
            ) from None
        shutil.move(f"{packed}.tbi", f"{out}.tbi")
        shutil.move(str(packed), str(out))


def effect_logos(
    scorer: Scorer,
    effects: pd.DataFrame,
    rows: np.ndarray,
    ref_w: np.ndarray,
    alt_w: np.ndarray,
    n: int,
    flank: int = 20,
):
    """Attribution logos (integrated gradients, captum) of the reference and alternative windows of the
    ``n`` strongest effects, for the class whose probability changed most; None when the model does not
    read one-hot input. Each logo shows ``2 * flank`` bp around the window centre."""
    from genomedl.attribution import plots
    from genomedl.attribution.attributions import accepts_one_hot, attribute, one_hot_inputs

    if isinstance(scorer.model, dict) or not len(rows) or n < 1:
        return None
    model = scorer.model.cpu().eval()
    if not accepts_one_hot(model, scorer.length):
        return None
    where = {r: k for k, r in enumerate(rows)}
    strongest = effects.loc[rows].sort_values("max_abs_delta_p", ascending=False).head(n)
    picked = np.array([where[r] for r in strongest.index])
    target = np.array([scorer.classes.index(c) for c in strongest["top_class"]])
    lo, hi = max(scorer.length // 2 - flank, 0), min(scorer.length // 2 + flank, scorer.length)
    where_centre = f"bp {lo}-{hi} of the window; its centre at {scorer.length // 2 - lo}"
    examples = []
    for allele, windows in (("ref", ref_w), ("alt", alt_w)):
        x = one_hot_inputs(windows[picked])
        contrib = attribute(model, x, target, "integrated_gradients") * x.numpy()
        for k, (_, v) in enumerate(strongest.iterrows()):
            examples.append(
                (
                    k,
                    allele,
                    {
                        "title": f"{v['chrom']}:{v['pos']} {v['ref']}>{v['alt']} {allele} allele: "
                        f"P({v['top_class']}) = {v[f'{allele}_p_' + v['top_class']]:.3f} ({where_centre})",
                        "contrib": contrib[k, :, lo:hi],
                    },
                )
            )
    examples.sort(key=lambda e: (e[0], e[1] != "ref"))
    return plots.attribution_logos([e[2] for e in examples], width=hi - lo)


def score_variants(
    scorer: Scorer,
    vcf: Path,
    reference_path: Path,
    out_dir: Path,
    batch_size: int,
    max_allele: int,
    top: int,
    *,
    max_ref_mismatch: float,
    unknown_contigs: str,
    log=log,
) -> dict:
    """Write variants.tsv, variants.vcf.gz (+ .tbi) and effects.png; returns the summary entries.
    ``unknown_contigs``: skip or stop (predict.unknown_contigs)."""
    max_allele = min(max_allele, scorer.length // 2)
    header, records = read_variants(vcf)
    with open_reference(reference_path) as reference:
        sizes = dict(zip(reference.references, reference.lengths))
        elsewhere = contigs_not_in(records, sizes, vcf, reference_path, unknown_contigs, log)
        table = allele_table(records, sizes)
        rows, ref_w, alt_w = check_and_window(table, reference, reference_path, scorer.length, max_allele)
    check_ref_mismatch(table, vcf, reference_path, max_ref_mismatch, log)
    progress = Progress(2 * len(rows), f"variants {vcf.name}", log)
    both = scorer.proba(np.concatenate([ref_w, alt_w]), batch_size, progress)
    progress.close()
    effects = effect_columns(table, rows, both[: len(rows)], both[len(rows) :], scorer.classes)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_vcf(header, records, effects, scorer, out_dir / "variants.vcf.gz")
    plotting.save(effect_logos(scorer, effects, rows, ref_w, alt_w, min(top, 5)), out_dir / "effects.png")
    write_tsv(effects.drop(columns="record"), out_dir / "variants.tsv")
    counts = {s: int((effects["status"] == s).sum()) for s in STATUSES}
    strongest = effects.loc[rows].sort_values("max_abs_delta_p", ascending=False).head(top)
    log(
        f"variants: {len(records)} records, {len(effects)} ALT alleles; "
        + ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    )
    return {
        "records": len(records),
        "alleles": len(effects),
        "status_counts": counts,
        "unknown_contigs": elsewhere,
        "max_allele": max_allele,
        "eps": EPS,
        "top_effects": strongest.drop(columns="record").to_dict("records"),
        "outputs": ["variants.tsv", "variants.vcf.gz", "variants.vcf.gz.tbi", "effects.png"],
    }
