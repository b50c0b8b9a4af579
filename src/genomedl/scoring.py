"""Score windows with any trained model folder: a neural ``model.ckpt`` (BERT included) or a k-mer
baseline's ``model.npz``; on the GPU when there is one, with progress shown as it goes.

Strands (``strands="trained"``, the default): a neural model trained with ``rc_augment`` is scored on both
strands and the two strands' class probabilities are averaged (:func:`genomedl.inference.strand_averaged_logits`);
one trained without it learnt one strand and is scored on the forward strand. Evaluation and the exported program
do the same. ``strands="both"`` or ``"forward"`` forces either. Baselines score the forward strand, as they were
fitted and evaluated.

Calibration: a model whose run.json carries a ``calibration`` temperature (fitted on the validation split after
training, :mod:`genomedl.stats.calibration`) has its probabilities rescaled by it, unless asked for them as trained.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genomedl.errors import GenomedlError
from genomedl.stats.calibration import apply_temperature
from genomedl.tables import read_json


@dataclass
class Scorer:
    """A loaded model: ``proba(tokens [N, L] uint8) -> [N, C]`` float64 class probabilities."""

    name: str
    arch: str
    length: int  # bp per window the model was trained on
    classes: list[str]
    both_strands: bool
    device: str
    model: object  # a torch module, or the baseline's arrays
    temperature: float = 1.0  # fitted on the validation split after training (1.0: none)

    def proba(self, tokens: np.ndarray, batch_size: int, on_batch=None, calibrated: bool = True) -> np.ndarray:
        """Class probabilities of windows ``[N, L]``, rescaled by the model's temperature unless ``calibrated`` is
        False; ``on_batch(n)`` after each batch of ``n`` windows."""
        raw = self.raw_proba(tokens, batch_size, on_batch)
        return self.calibrate(raw) if calibrated else raw

    def calibrate(self, probs: np.ndarray) -> np.ndarray:
        """``probs`` ``[N, C]`` as trained, rescaled by the model's temperature."""
        return apply_temperature(probs, self.temperature)

    def raw_proba(self, tokens: np.ndarray, batch_size: int, on_batch=None) -> np.ndarray:
        """Class probabilities ``[N, C]`` as the model was trained (no temperature)."""
        if isinstance(self.model, dict):
            from genomedl.models.baselines import baseline_proba

            parts = []
            for start in range(0, len(tokens), batch_size):
                parts.append(baseline_proba(self.model, tokens[start : start + batch_size]))
                if on_batch is not None:
                    on_batch(len(parts[-1]))
            return np.concatenate(parts) if parts else np.zeros((0, len(self.classes)))
        from genomedl.inference import predict_proba

        out = predict_proba(
            self.model,
            tokens,
            batch_size=batch_size,
            device=self.device,
            both_strands=self.both_strands,
            on_batch=on_batch,
        )
        return out if len(tokens) else np.zeros((0, len(self.classes)))

    @property
    def strands(self) -> str:
        return "both strands averaged" if self.both_strands else "forward strand only"


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def trained_strands(model_dir: Path) -> str:
    """ "forward" for a model trained without reverse-complement augmentation (run.json), else "both"."""
    run = Path(model_dir) / "run.json"
    settings = (read_json(run).get("settings") or {}) if run.exists() else {}
    return "forward" if settings.get("rc_augment") is False else "both"


def load_scorer(model_dir: Path, device: str | None, strands: str) -> Scorer:
    """The model in ``model_dir`` (``model.ckpt`` or ``model.npz`` + ``run.json``), ready to score.

    ``strands``: "trained" (as :func:`trained_strands`), "both" (averaged) or "forward"; neural models only.
    """
    model_dir = Path(model_dir)
    run = read_json(model_dir / "run.json") if (model_dir / "run.json").exists() else {}
    name = run.get("model", model_dir.name)
    if (model_dir / "model.npz").exists() and not (model_dir / "model.ckpt").exists():
        if "length" not in run:
            raise GenomedlError(
                f"{model_dir / 'run.json'}: missing or without 'length'; a baseline's window "
                "length comes from its run.json (rerun the baseline stage)"
            )
        with np.load(model_dir / "model.npz") as saved:
            params = {k: saved[k] for k in saved.files}
        classes = [str(c) for c in params["classes"]]
        return Scorer(name, run["arch"], int(run["length"]), classes, False, "cpu", params, temperature_of(run))
    if not (model_dir / "model.ckpt").exists():
        raise GenomedlError(f"{model_dir}: no model.ckpt or model.npz; train the model first")
    from genomedl.inference import load_model

    model, payload = load_model(model_dir / "model.ckpt")
    return Scorer(
        name,
        payload["arch"],
        int(payload["length"]),
        list(payload["classes"]),
        (trained_strands(model_dir) if strands == "trained" else strands) == "both",
        device or default_device(),
        model,
        temperature_of(run),
    )


def temperature_of(run: dict) -> float:
    """The temperature of run.json's ``calibration`` (1.0 for a model trained before calibration existed)."""
    return float((run.get("calibration") or {}).get("temperature", 1.0))


class Progress:
    """Counts scored windows: a tqdm bar on a terminal, otherwise one plain log line about every
    ``every`` seconds and at the end (so that cluster logs show how far a job got)."""

    def __init__(self, total: int, label: str, log=print, every: float = 30.0, tty: bool | None = None):
        self.total, self.label, self.log, self.every, self.done = total, label, log, every, 0
        self.t0 = self.last = time.time()
        self.bar = None
        if os.isatty(2) if tty is None else tty:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, unit="win", file=sys.stderr)

    def __call__(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif time.time() - self.last >= self.every:
            self.last = time.time()
            self._line()

    def _line(self) -> None:
        rate = self.done / max(time.time() - self.t0, 1e-9)
        self.log(
            f"{self.label}: {self.done}/{self.total} windows ({100 * self.done / max(self.total, 1):.0f}%, "
            f"{rate:.0f}/s)"
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        else:
            self._line()


def model_proba(model_dir: Path, tokens: np.ndarray) -> np.ndarray:
    """Probabilities ``[N, C]`` from whatever kind of model ``model_dir`` holds (neural: on the CPU, both
    strands averaged when it was trained on both (rc_augment), else the forward strand as trained), calibrated."""
    return load_scorer(model_dir, "cpu", "trained").proba(tokens, batch_size=512)
