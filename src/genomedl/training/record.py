"""The end of a training run: the best checkpoint's weights saved as ``model.ckpt`` and ``run.json`` written
(provenance, best epoch, fit verdict, gradient flags, collapsed attempts, strands and why)."""

from __future__ import annotations

from pathlib import Path

import torch

from genomedl.provenance import git_commit, hardware, model_record, utc_now, versions
from genomedl.tables import write_json
from genomedl.training.checkpoints import save_model
from genomedl.training.diagnostics import fit_verdict
from genomedl.training.engine import MONITOR_MODE
from genomedl.training.fit import Fit


def save_best(fitted: Fit, path: Path, classes: list[str]) -> dict:
    """Load the best checkpoint's weights into the module and save them as ``path`` (model.ckpt); returns the
    checkpoint (its ``epoch`` is 0-based)."""
    best = torch.load(fitted.best.best_model_path, map_location="cpu", weights_only=True)
    fitted.module.load_state_dict(best["state_dict"])
    save_model(path, fitted.module, classes)
    return best


def run_record(fitted: Fit, data, name: str, settings: dict, seed: int, best_epoch: int, extra: dict) -> dict:
    """run.json of a finished run: ``settings`` as trained (the first attempt's: a restart's lr is
    ``trained_lr``), ``extra``: calibration, started_at, restarts (collapsed attempts), strands_from, head_from,
    trained_seed."""
    module, rows, plan, monitor = fitted.module, fitted.history.rows, fitted.plan, settings["monitor"]
    return {
        **model_record(name, settings["arch"], settings, seed, data.classes, data.length, data.parts["train"].labels),
        "class_weights": [round(w, 6) for w in module.hparams.class_weights],
        "imbalance": settings["imbalance"],
        "epoch_class_counts": {c: plan.epoch_counts[i] for i, c in enumerate(data.classes)},
        "batch_size": plan.batch_size,
        "epochs_run": fitted.trainer.current_epoch,
        "best_epoch": best_epoch,
        "monitor": monitor,
        "monitor_mode": MONITOR_MODE[monitor],
        "best_score": float(fitted.best.best_model_score),
        "best_val_loss": next((r["val_loss"] for r in rows if r["epoch"] == best_epoch), None),
        "fit_verdict": fit_verdict([r["train_loss"] for r in rows], [r["val_loss"] for r in rows], len(data.classes)),
        "grad_flags": sorted({f for r in rows for f in r["grad_flags"].split(";") if f}),
        "calibration": extra["calibration"],  # the temperature fitted on the validation split, scores before/after
        "strands_from": extra["strands_from"],  # why settings.rc_augment is what it is
        "head_from": extra["head_from"],  # why settings.head of a cnn is what it is (None for other architectures)
        "restarts": extra["restarts"],  # collapsed attempts before the one kept ([] when the first learned)
        "trained_lr": module.hparams.lr,
        "trained_seed": extra["trained_seed"],
        "sweep": settings.get("sweep"),
        "resumed": fitted.resumed_from is not None,
        "resumed_from_epoch": fitted.resumed_from,
        "samples_per_rank": module.samples_per_rank,
        "world_size": plan.world,
        "precision": fitted.trainer.precision,  # as Lightning ran it ("bf16-mixed", "16-mixed", "32-true")
        "train_seconds": round(fitted.seconds, 2),
        "versions": versions(),
        "git_commit": git_commit(),
        "hardware": hardware(torch.cuda.get_device_name() if plan.on_gpu else "cpu"),
        "started_at": extra["started_at"],
        "finished_at": utc_now(),
    }


def write_run(run: dict, out_dir: Path) -> None:
    """Write run.json atomically."""
    write_json(run, out_dir / "run.json")
