"""Train stage: fit one registry model with Lightning; checkpoint every epoch and resume after a kill.

Writes ``model.ckpt`` (a plain dict of tensors and primitives, loadable with ``weights_only=True``),
``history.tsv`` (one row per epoch) and ``run.json`` (provenance).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import lightning as L
import pandas as pd
import torch

from .atomic import atomic_path
from .data import class_weights, load_dataset, tensor_dataset
from .engine import SequenceClassifier
from .errors import GenomedlError
from .provenance import config_hash, git_commit, hardware, utc_now, versions
from .tables import write_json, write_tsv

ENGINE_KEYS = {"epochs", "batch_size", "lr", "weight_decay", "patience", "rc_augment", "arch"}


class HistoryWriter(L.Callback):
    """Rewrite ``history.tsv`` after every epoch (atomically); its rows travel in the checkpoint."""

    def __init__(self, path: Path):
        self.path = path
        self.rows: list[dict] = []

    def on_train_epoch_end(self, trainer, module):
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
        row = {"epoch": trainer.current_epoch + 1, "lr": trainer.optimizers[0].param_groups[0]["lr"], **metrics}
        self.rows = [r for r in self.rows if r["epoch"] < row["epoch"]] + [row]
        write_tsv(pd.DataFrame(self.rows), self.path)

    def state_dict(self):
        return {"rows": self.rows}

    def load_state_dict(self, state):
        self.rows = list(state["rows"])


def save_model(path: Path, module: SequenceClassifier, classes: list[str]) -> None:
    """Save weights + everything needed to rebuild the model, as tensors and primitives only."""
    hp = module.hparams
    payload = {"arch": hp.arch, "length": hp.length, "classes": classes, "hyper": dict(hp.hyper),
               "state_dict": {k: v.detach().cpu() for k, v in module.model.state_dict().items()}}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_model(path: Path) -> tuple[torch.nn.Module, dict]:
    """Rebuild a model saved by :func:`save_model`; never unpickles code (``weights_only=True``)."""
    from .models import build_model

    payload = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(payload["arch"], length=payload["length"], n_classes=len(payload["classes"]),
                        **payload["hyper"])
    model.load_state_dict(payload["state_dict"])
    return model.eval(), payload


def run_train(tokens: Path, meta: Path, labels: Path, split: Path, out_dir: Path, model_name: str,
              settings: dict, seed: int, log=print) -> dict:
    """Train ``settings['arch']`` with engine keys from ``settings``; the rest are model hyperparameters."""
    started = utc_now()
    L.seed_everything(seed, workers=True, verbose=False)
    torch.use_deterministic_algorithms(True, warn_only=True)
    data = load_dataset(tokens, meta, labels, split)
    train, val = data.parts["train"], data.parts["val"]
    if len(train.labels) == 0 or len(val.labels) == 0:
        raise GenomedlError(f"{split}: the train or val split is empty; adjust split fractions")
    hyper = {k: v for k, v in settings.items() if k not in ENGINE_KEYS}
    weights = class_weights(train.labels, len(data.classes))
    module = SequenceClassifier(settings["arch"], data.length, len(data.classes), hyper, weights.tolist(),
                                lr=settings.get("lr", 1e-3), weight_decay=settings.get("weight_decay", 1e-2),
                                rc_augment=settings.get("rc_augment", True))
    batch = int(settings.get("batch_size", 64))
    generator = torch.Generator().manual_seed(seed)
    train_loader = torch.utils.data.DataLoader(tensor_dataset(train), batch_size=batch, shuffle=True,
                                               generator=generator)
    val_loader = torch.utils.data.DataLoader(tensor_dataset(val), batch_size=max(batch, 256))
    ckpt_dir = out_dir / "checkpoints"
    best = L.pytorch.callbacks.ModelCheckpoint(dirpath=ckpt_dir, filename="best", monitor="val_loss",
                                               save_last=True, enable_version_counter=False)
    history = HistoryWriter(out_dir / "history.tsv")
    stop = L.pytorch.callbacks.EarlyStopping(monitor="val_loss", patience=int(settings.get("patience", 5)))
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    trainer = L.Trainer(max_epochs=int(settings.get("epochs", 10)), accelerator="auto", devices=1,
                        deterministic=True, logger=False, callbacks=[best, history, stop],
                        enable_progress_bar=os.isatty(2), enable_model_summary=False, default_root_dir=out_dir)
    last = ckpt_dir / "last.ckpt"
    resume = last if last.exists() else None
    if resume:
        log(f"train: resuming {model_name} from {last}")
    t0 = time.time()
    trainer.fit(module, train_loader, val_loader, ckpt_path=resume)
    best_state = torch.load(best.best_model_path, map_location="cpu", weights_only=True)["state_dict"]
    module.load_state_dict(best_state)
    save_model(out_dir / "model.ckpt", module, data.classes)
    run = {
        "model": model_name, "arch": settings["arch"], "settings": settings, "seed": seed,
        "config_hash": config_hash(settings), "classes": data.classes, "length": data.length,
        "train_counts": {c: int((train.labels == i).sum()) for i, c in enumerate(data.classes)},
        "class_weights": [round(w, 6) for w in weights.tolist()], "imbalance": "class_weighted_loss",
        "epochs_run": trainer.current_epoch, "best_epoch": int(torch.load(best.best_model_path, map_location="cpu",
                                                                          weights_only=True)["epoch"]) + 1,
        "best_val_loss": float(best.best_model_score), "resumed": bool(resume),
        "train_seconds": round(time.time() - t0, 2), "versions": versions(), "git_commit": git_commit(),
        "hardware": hardware(str(module.device)), "started_at": started, "finished_at": utc_now(),
    }
    write_json(run, out_dir / "run.json")
    log(f"train: {model_name} best epoch {run['best_epoch']} val_loss {run['best_val_loss']:.4f}")
    return run
