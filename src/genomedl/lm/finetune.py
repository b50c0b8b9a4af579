"""Finetune stage: train a ``bert`` registry model (pretrained encoder + classification head) with the
same Lightning engine as every other model, so that evaluate and report treat it like any model."""

from __future__ import annotations

from pathlib import Path

from ..errors import GenomedlError
from ..train import run_train


def run_finetune(
    tokens: Path,
    meta: Path,
    labels: Path,
    split: Path,
    out_dir: Path,
    name: str,
    settings: dict,
    seed: int,
    encoder: str | None = None,
    qc: Path | None = None,
    log=print,
) -> dict:
    """Fine-tune (or, with ``from_scratch``, train) model ``name``; ``encoder`` overrides ``settings["encoder"]``
    (the workflow passes the pretrain stage's folder for ``encoder: pretrain``); ``qc``: as :func:`run_train`."""
    encoder = str(encoder or settings.get("encoder") or "")
    if settings.get("arch") != "bert":
        raise GenomedlError(f"config key models.{name}.arch: finetune trains arch bert, not {settings.get('arch')!r}")
    if not encoder or encoder == "pretrain":
        raise GenomedlError(
            f"config key models.{name}.encoder: give a Hugging Face model id, a local folder, or "
            "'pretrain' (run through the workflow, which passes the pretrain stage's encoder)"
        )
    return run_train(tokens, meta, labels, split, out_dir, name, {**settings, "encoder": encoder}, seed, qc, log)
