"""Checkpoints of a run in progress (``checkpoints/`` with a stamp of the settings: a rerun with other settings
starts afresh) and the saved model (``model.ckpt``: tensors and primitives only, loadable with
``weights_only=True``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from genomedl.atomic import atomic_torch_save
from genomedl.models import full_hyperparameters
from genomedl.provenance import config_hash
from genomedl.tables import read_json, write_json
from genomedl.training.engine import NonFiniteLoss, SequenceClassifier
from genomedl.training.restarts import restarts_path


def save_model(path: Path, module: SequenceClassifier, classes: list[str]) -> None:
    """Save weights + everything needed to rebuild the model, as tensors and primitives only."""
    hp = module.hparams
    state = {k.replace("_orig_mod.", ""): v.detach().cpu() for k, v in module.model.state_dict().items()}
    hyper = full_hyperparameters(hp.arch, dict(hp.hyper))
    payload = {"arch": hp.arch, "length": hp.length, "classes": classes, "hyper": hyper, "state_dict": state}
    atomic_torch_save(payload, path)


def resume_point(ckpt_dir: Path, settings: dict, seed: int, log, rank_zero: bool = True) -> Path | None:
    """``last.ckpt`` when it was written with these settings and seed; otherwise (rank zero only) clear
    stale checkpoints and stamp the folder with the settings' hash."""
    stamp = {"config_hash": config_hash({**settings, "seed": seed})}
    stamp_path, last = ckpt_dir.with_suffix(".json"), ckpt_dir / "last.ckpt"
    if last.exists() and stamp_path.exists() and read_json(stamp_path) == stamp:
        return last
    if not rank_zero:
        return None
    if ckpt_dir.exists():
        log(f"train: settings changed since the checkpoints in {ckpt_dir} were written; starting afresh")
        shutil.rmtree(ckpt_dir)
    write_json(stamp, stamp_path)
    return None


def nan_message(name: str, error: NonFiniteLoss, rows: list[dict], ckpt_dir: Path) -> str:
    last = (
        f"{ckpt_dir / 'last.ckpt'} (epoch {rows[-1]['epoch']})"
        if rows and (ckpt_dir / "last.ckpt").exists()
        else "none (no epoch finished)"
    )
    return (
        f"model {name}: loss became NaN/inf at epoch {error.epoch}, step {error.step}; last good checkpoint: "
        f"{last}; lower models.{name}.lr, set models.{name}.gradient_clip, or check the inputs"
    )


def clear_checkpoints(ckpt_dir: Path) -> None:
    """Remove the checkpoints, their settings stamp and the record of collapsed attempts."""
    shutil.rmtree(ckpt_dir, ignore_errors=True)
    ckpt_dir.with_suffix(".json").unlink(missing_ok=True)
    restarts_path(ckpt_dir).unlink(missing_ok=True)
