"""Predict stage: class probabilities of a trained model on new sequences (FASTA, CSV), on regions of
a reference genome (BED), and the effect of variants (VCF/BCF) on them.

Writes, under ``out_dir``: ``windows.tsv`` (one row per window: name, chrom, start, end, n_padded,
``p_<class>``, predicted), ``tracks/<class>.bedgraph`` + ``.bw`` and ``summary.json`` for sequences and regions;
:mod:`.variants` writes the variant outputs. See docs/predict.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_dir
from ..config import stage_settings
from ..console import log
from ..errors import GenomedlError
from ..provenance import utc_now
from ..tables import write_json, write_tsv
from .inputs import read_bed, read_csv, read_fasta, tile
from .score import load_scorer, score_windows
from .tracks import window_bins, write_tracks


def probability_columns(probs: np.ndarray, classes: list[str]) -> dict:
    """``{p_<class>: probabilities rounded to 6 decimals}``."""
    return {f"p_{c}": probs[:, i].round(6) for i, c in enumerate(classes)}


def run_predict(
    model_dir: Path,
    out_dir: Path,
    kind: str,
    path: Path,
    settings: dict,
    reference: Path | None = None,
    device: str | None = None,
    log=log,
) -> dict:
    """Score ``path`` (a ``kind`` of :data:`~genomedl.choices.PREDICT_KINDS`) with the model in ``model_dir``;
    write the outputs in ``out_dir`` and return the summary. ``settings``: schema section ``predict``
    (stride, batch_size, strands, max_allele, top, max_ref_mismatch)."""
    settings = stage_settings("predict", settings, "datasets.<name>.predict")
    stride, batch_size, strands = settings["stride"], settings["batch_size"], settings["strands"]
    max_allele, top = settings["max_allele"], settings["top"]
    if kind in ("bed", "vcf") and reference is None:
        raise GenomedlError(f"{path}: a {kind.upper()} input needs --reference (an indexed FASTA)")
    if not Path(path).is_file():
        raise GenomedlError(f"{path}: {kind.upper()} input not found; fix the path")
    t0, started = time.time(), utc_now()
    scorer = load_scorer(model_dir, device=device, strands=strands)
    log(f"predict: {scorer.name} ({scorer.arch}, {scorer.length} bp windows, {scorer.strands}) on {scorer.device}")
    summary = {
        "model": scorer.name,
        "arch": scorer.arch,
        "classes": scorer.classes,
        "input": str(path),
        "kind": kind,
        "reference": str(reference) if reference else None,
        "window_length": scorer.length,
        "strands": "both" if scorer.both_strands else "forward",
        "device": scorer.device,
        "started_at": started,
    }
    if kind == "vcf":
        from .variants import score_variants

        summary.update(
            score_variants(
                scorer,
                Path(path),
                Path(reference),
                Path(out_dir),
                batch_size,
                max_allele,
                top,
                max_ref_mismatch=settings["max_ref_mismatch"],
                log=log,
            )
        )
    else:
        summary.update(predict_regions(scorer, kind, Path(path), reference, stride, batch_size, Path(out_dir), log))
    summary.update(seconds=round(time.time() - t0, 2), finished_at=utc_now())
    write_json(summary, Path(out_dir) / "summary.json")
    return summary


def predict_regions(
    scorer, kind: str, path: Path, reference: Path | None, stride: int | None, batch_size: int, out_dir: Path, log=log
) -> dict:
    """Tile the sequences or BED regions, score every window, write windows.tsv and the bedGraph and bigWig
    tracks."""
    length = scorer.length
    stride = int(stride or max(length // 2, 1))
    if kind == "bed":
        regions = read_bed(path, Path(reference), pad=length)
    else:
        regions = (read_fasta if kind == "fasta" else read_csv)(path, pad=length)
    owner, starts = tile(regions.begin, regions.end, length, stride)
    probs = score_windows(scorer, regions.flat, regions.base[owner] + starts, batch_size, f"predict {path.name}", log)
    limit = regions.limit[owner]
    padded = np.maximum(-starts, 0) + np.maximum(starts + length - limit, 0)
    chrom = np.asarray(regions.chrom, dtype=object)[owner]
    table = pd.DataFrame(
        {
            "name": np.asarray(regions.names, dtype=object)[owner],
            "chrom": chrom,
            "start": starts,
            "end": starts + length,
            "n_padded": padded,
            **probability_columns(probs, scorer.classes),
            "predicted": np.asarray(scorer.classes, dtype=object)[probs.argmax(1)],
        }
    )
    short = regions.end - regions.begin < length
    if kind != "bed" and short.any():
        log(
            f"warning: {path}: {int(short.sum())} of {len(short)} sequences are shorter than the model's {length} bp "
            f"window; their windows are N-padded ({padded[short[owner]].sum() / (short[owner].sum() * length):.0%} "
            "of their bases)"
        )
    lo, hi = window_bins(owner, starts, regions.begin, regions.end, length)
    title = f"{scorer.name} {path.stem}"
    with atomic_dir(out_dir / "tracks") as folder:
        sizes = pd.Series(regions.limit, index=regions.chrom).groupby(level=0).max().to_dict()
        tracks = write_tracks(folder, chrom, lo, hi, owner, probs, scorer.classes, title, sizes)
    write_tsv(table, out_dir / "windows.tsv")
    log(
        f"predict: {len(table)} windows of {len(regions.names)} {'regions' if kind == 'bed' else 'sequences'} "
        f"(stride {stride} bp; {int((padded > 0).sum())} windows padded with N)"
    )
    return {
        "stride": stride,
        "sequences": len(regions.names),
        "windows": len(table),
        "padded_windows": int((padded > 0).sum()),
        "predicted": {c: int((table["predicted"] == c).sum()) for c in scorer.classes},
        "outputs": ["windows.tsv"] + [f"tracks/{p.name}" for p in tracks],
    }
