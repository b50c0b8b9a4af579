"""One training attempt: the module, its data loaders and callbacks, and the Lightning trainer, from a models
entry's settings (engine keys: the schema's ``x-engine`` marks; every other key is a hyperparameter of the
architecture)."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_only

from genomedl.config.keys import ENGINE_KEYS, MODULE_KEYS
from genomedl.data.loaders import loader
from genomedl.errors import GenomedlError
from genomedl.training.batches import global_batch_size
from genomedl.training.callbacks import AtomicCheckpointIO, EpochSeed, HistoryWriter, weight_average
from genomedl.training.checkpoints import nan_message, resume_point
from genomedl.training.diagnostics import prior_loss
from genomedl.training.engine import MONITOR_MODE, NonFiniteLoss, SequenceClassifier
from genomedl.training.imbalance import make_train_sampler
from genomedl.training.placement import cluster_layout, native_bf16, precision_for, torch_flags_kept


@dataclass
class Plan:
    """How an attempt trains: the global and per-rank batch, the process layout, precision and class balance."""

    batch_size: int  # global
    batch: int  # per rank
    layout: dict  # Lightning's accelerator, devices, num_nodes, strategy (genomedl.training.placement)
    precision: str
    sampler: torch.utils.data.Sampler | None
    loss_weights: list[float]
    epoch_counts: dict[int, int]  # windows of each class seen per epoch

    @property
    def on_gpu(self) -> bool:
        return self.layout["accelerator"] == "gpu"

    @property
    def world(self) -> int:
        return self.layout["devices"] * self.layout["num_nodes"]


@dataclass
class Fit:
    """One finished attempt: the module (last weights), its trainer and callbacks, and how it was run."""

    module: SequenceClassifier
    trainer: L.Trainer
    best: L.pytorch.callbacks.ModelCheckpoint
    history: HistoryWriter
    plan: Plan
    resumed_from: int | None
    seconds: float


def plan_training(data, settings: dict, seed: int, name: str, log) -> Plan:
    """Batch sizes, layout, precision and the class-imbalance sampler or loss weights of a run."""
    train = data.parts["train"]
    batch_size = global_batch_size(settings["batch_size"], len(train.labels), settings["auto_batch_small"])
    if batch_size > len(train.labels):
        log(
            f"warning: model {name}: batch_size {batch_size} is larger than the {len(train.labels)} "
            f"training windows, so every epoch is one step; lower models.{name}.batch_size"
        )
    sampler, weights, epoch_counts = make_train_sampler(train.labels, settings["imbalance"], seed, len(data.classes))
    layout = cluster_layout(settings)
    on_gpu = layout["accelerator"] == "gpu"
    world = layout["devices"] * layout["num_nodes"]
    return Plan(
        batch_size=batch_size,
        batch=max(batch_size // world, 1),  # batch_size is global: split over ranks
        layout=layout,
        precision=precision_for(str(settings["precision"]), on_gpu, on_gpu and native_bf16()),
        sampler=sampler,
        loss_weights=weights.tolist() if weights is not None else [1.0] * len(data.classes),
        epoch_counts=epoch_counts,
    )


def build_module(data, settings: dict, plan: Plan) -> SequenceClassifier:
    """The Lightning module around the registry model ``settings["arch"]``; a published language model's
    tokenizer runs once here, over the train and val windows, not at every step."""
    module = SequenceClassifier(
        settings["arch"],
        data.length,
        len(data.classes),
        {k: v for k, v in settings.items() if k not in ENGINE_KEYS},
        plan.loss_weights,
        {k: settings[k] for k in (*MODULE_KEYS, "patience")},
    )
    pretokenize = getattr(module.model, "pretokenize", None)
    if pretokenize is not None:
        pretokenize(np.concatenate([data.parts["train"].tokens, data.parts["val"].tokens]))
    return module


def make_loaders(data, settings: dict, plan: Plan, seed: int) -> tuple:
    """(train, val) DataLoaders; compiled models get one batch shape throughout (no recompiles)."""
    workers = int(settings["num_workers"])
    shapes = {"pin_memory": plan.on_gpu, "num_workers": workers, "fixed_shape": bool(settings["compile"])}
    train = loader(
        data.parts["train"], plan.batch, shuffle_seed=seed, distributed=plan.world > 1, sampler=plan.sampler, **shapes
    )
    return train, loader(data.parts["val"], max(plan.batch, 256), **shapes)


def make_trainer(out_dir: Path, settings: dict, plan: Plan, seed: int, steps_per_epoch: int, log) -> tuple:
    """(trainer, best-checkpoint callback, history writer): checkpoints every epoch, early stopping on
    ``monitor``, the weight average, ``history.tsv`` with the collapse check."""
    ckpt_dir, monitor = out_dir / "checkpoints", settings["monitor"]
    mode = MONITOR_MODE[monitor]
    ema = weight_average(float(settings["ema_epochs"]), steps_per_epoch)
    best = L.pytorch.callbacks.ModelCheckpoint(
        dirpath=ckpt_dir,
        filename="best",
        monitor=monitor,
        mode=mode,
        save_weights_only=not ema,  # the average is written by the averaging callback, in full checkpoints only
        enable_version_counter=False,
    )  # read once at the end; resuming uses last.ckpt
    # last.ckpt after every epoch, improving or not (save_last on `best` writes it only when `best` is saved)
    last = L.pytorch.callbacks.ModelCheckpoint(dirpath=ckpt_dir, filename="last", enable_version_counter=False)
    counts = [plan.epoch_counts[c] for c in range(len(plan.loss_weights))]
    prior = prior_loss(counts, plan.loss_weights, float(settings["label_smoothing"]))
    history = HistoryWriter(out_dir / "history.tsv", log, plain_lines=not os.isatty(2), prior=prior)
    stop = L.pytorch.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=int(settings["patience"]))
    deterministic = True if not plan.on_gpu else ("warn" if settings["deterministic"] else False)
    trainer = L.Trainer(
        max_epochs=int(settings["epochs"]),
        precision=plan.precision,
        deterministic=deterministic,
        logger=False,
        callbacks=[EpochSeed(seed), *ema, best, last, history, stop],
        plugins=[AtomicCheckpointIO()],
        enable_progress_bar=os.isatty(2),
        enable_model_summary=False,
        default_root_dir=out_dir,
        **plan.layout,
    )
    return trainer, best, history


def fit(data, out_dir: Path, name: str, settings: dict, seed: int, log) -> Fit | None:
    """Train one attempt with ``settings`` and ``seed``, resuming from its own last checkpoint; raises
    :class:`~genomedl.training.callbacks.Collapsed` when training collapses. None on DDP ranks other than zero."""
    L.seed_everything(seed, workers=True, verbose=False)
    plan = plan_training(data, settings, seed, name, log)
    module = build_module(data, settings, plan)
    train_loader, val_loader = make_loaders(data, settings, plan, seed)
    ckpt_dir = out_dir / "checkpoints"
    resume = resume_point(ckpt_dir, settings, seed, log, rank_zero=rank_zero_only.rank == 0)
    resumed_from = int(torch.load(resume, map_location="cpu", weights_only=True)["epoch"]) + 1 if resume else None
    if resume:
        log(f"train: resuming {name} from {resume} (epoch {resumed_from} done)")
    layout = plan.layout
    log(
        f"train: {name} ({settings['arch']}) on {layout['devices']} x {layout['num_nodes']} "
        f"{layout['accelerator']} ({layout['strategy']}), precision {plan.precision}, batch {plan.batch} per rank"
    )
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    with torch_flags_kept():  # deterministic=True turns a process-wide flag on: off again after fit
        torch.backends.cudnn.benchmark = plan.on_gpu and not settings["deterministic"]
        trainer, best, history = make_trainer(out_dir, settings, plan, seed, len(train_loader), log)
        started = time.time()
        try:
            trainer.fit(module, train_loader, val_loader, ckpt_path=resume)
        except NonFiniteLoss as exc:
            raise GenomedlError(nan_message(name, exc, history.rows, ckpt_dir)) from None
        except torch.OutOfMemoryError:
            raise GenomedlError(
                f"model {name}: CUDA out of memory at batch_size {plan.batch * plan.world}; try "
                f"models.{name}.batch_size: {max(plan.batch * plan.world // 2, 1)} (or a smaller model)"
            ) from None
    if not trainer.is_global_zero:
        return None
    return Fit(module, trainer, best, history, plan, resumed_from, time.time() - started)
