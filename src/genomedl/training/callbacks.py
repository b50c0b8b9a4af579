"""Lightning callbacks of a training run: atomic checkpoints, per-epoch seeding (a resumed run ends with the
same weights), ``history.tsv`` with the collapse check, and the weight average."""

from __future__ import annotations

import time
from pathlib import Path

import lightning as L
import pandas as pd
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from genomedl.atomic import atomic_torch_save
from genomedl.tables import write_tsv
from genomedl.training.diagnostics import collapse, flag_layers

HISTORY_FIRST = [
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_auroc",
    "val_acc",
    "lr",
    "grad_norm",
    "grad_norm_max",
    "grad_flags",
    "seconds",
]


class Collapsed(RuntimeError):
    """Raised by :class:`HistoryWriter` at the end of an epoch when training has collapsed; ``reason`` says how
    (:func:`genomedl.training.diagnostics.collapse`)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints go to a temporary file renamed into place: a SIGKILL never leaves a truncated ``last.ckpt``."""

    def save_checkpoint(self, checkpoint, path, storage_options=None):
        atomic_torch_save(checkpoint, path)


class EpochSeed(L.Callback):
    """Seed torch's generators from (seed, epoch) at the first batch of every epoch: random draws in training
    (strand flips, dropout) depend only on the epoch, so a run resumed from ``last.ckpt`` ends with the same
    weights as an unbroken one."""

    def __init__(self, seed: int):
        self.seed = seed

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if batch_idx == 0:  # not at epoch start: a resumed run creates its DataLoader iterator (one draw) earlier
            torch.manual_seed(self.seed * 100_003 + trainer.current_epoch)


class HistoryWriter(L.Callback):
    """After every epoch: stop on a non-finite loss, then rewrite ``history.tsv`` (atomically) with the
    epoch's metrics and gradient diagnostics, and log one plain line. Rows travel in the checkpoint."""

    def __init__(self, path: Path, log, plain_lines: bool, prior: float = float("nan")):
        self.path, self.echo, self.plain_lines, self.prior = path, log, plain_lines, prior
        self.rows: list[dict] = []
        self._t0 = time.time()

    def on_train_epoch_start(self, trainer, module):
        self._t0 = time.time()

    def on_train_epoch_end(self, trainer, module):
        module.check_finite()
        diagnostics = module.epoch_diagnostics()
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
        row = {
            "epoch": trainer.current_epoch + 1,
            "lr": trainer.optimizers[0].param_groups[0]["lr"],
            **metrics,
            **diagnostics,
            "seconds": round(time.time() - self._t0, 3),
        }
        first = self.rows[0] if self.rows else row
        layers = {k.split("/", 1)[1]: v for k, v in row.items() if k.startswith("grad_norm/")}
        row["grad_flags"] = ";".join(
            flag_layers(layers, {k: first.get(f"grad_norm/{k}", float("nan")) for k in layers})
        )
        self.rows = [r for r in self.rows if r["epoch"] < row["epoch"]] + [row]
        if trainer.is_global_zero:
            self.write(row, trainer.max_epochs)
        reason = collapse(self.rows, self.prior)  # the same rows on every rank: all ranks stop together
        if reason:
            raise Collapsed(reason)

    def write(self, row: dict, max_epochs: int) -> None:
        """Rewrite history.tsv with every row so far; echo the epoch's line."""
        frame = pd.DataFrame(self.rows)
        write_tsv(
            frame[[c for c in HISTORY_FIRST if c in frame] + [c for c in frame if c not in HISTORY_FIRST]], self.path
        )
        if self.plain_lines:
            shown = " ".join(
                f"{k} {row[k]:.4g}"
                for k in ("train_loss", "val_loss", "val_auroc", "val_acc", "lr", "grad_norm")
                if k in row
            )
            flags = f" flags {row['grad_flags']}" if row["grad_flags"] else ""
            self.echo(f"epoch {row['epoch']}/{max_epochs} {shown}{flags} ({row['seconds']:.1f} s)")

    def state_dict(self):
        return {"rows": self.rows}

    def load_state_dict(self, state):
        self.rows = list(state["rows"])


def weight_average(ema_epochs: float, steps_per_epoch: int) -> list[L.Callback]:
    """An exponential moving average of the weights over about ``ema_epochs`` epochs (decay per optimizer step
    1 - 1 / (ema_epochs * steps_per_epoch)); validation, checkpoints and the saved model use the average. [] when 0."""
    if not ema_epochs:
        return []
    decay = 1 - 1 / max(ema_epochs * steps_per_epoch, 1)
    return [L.pytorch.callbacks.EMAWeightAveraging(decay=decay)]
