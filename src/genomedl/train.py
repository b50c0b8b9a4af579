"""Train stage: fit one registry model with Lightning; checkpoint every epoch and resume after a kill.

Writes ``model.ckpt`` (a plain dict of tensors and primitives, loadable with ``weights_only=True``),
``history.tsv`` (one row per epoch: losses, metrics, learning rate, gradient norms and flags) and
``run.json`` (provenance, best epoch, over/underfitting verdict).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import numpy as np
import pandas as pd
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.utilities import rank_zero_only

from .atomic import atomic_torch_save
from .config import stage_settings
from .data import load_dataset
from .diagnostics import collapse, fit_verdict, flag_layers, prior_loss
from .engine import MONITOR_MODE, NonFiniteLoss, SequenceClassifier
from .errors import GenomedlError
from .imbalance import make_train_sampler
from .loaders import loader
from .models import full_hyperparameters
from .placement import cluster_layout, native_bf16, precision_for, torch_flags_kept
from .provenance import config_hash, git_commit, hardware, model_record, utc_now, versions
from .tables import read_json, write_json, write_tsv

# settings that drive the engine; every other key of a model entry is a hyperparameter of the architecture
MODULE_KEYS = {
    "lr",
    "weight_decay",
    "rc_augment",
    "optimizer",
    "momentum",
    "schedule",
    "warmup_epochs",
    "monitor",
    "init",
    "compile",
    "gradient_clip",
    "val_both_strands",
    "label_smoothing",
}
ENGINE_KEYS = MODULE_KEYS | {
    "arch",
    "epochs",
    "batch_size",
    "auto_batch_small",
    "patience",
    "precision",
    "accelerator",
    "devices",
    "num_nodes",
    "num_workers",
    "deterministic",
    "sweep",
    "imbalance",
    "gpus",
    "ema_epochs",
    "restarts",
}  # gpus: SLURM request (workflow/rules/cluster.smk)
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


RESTART_LR_FACTOR = 1 / 3  # each restart after a collapse: a fresh initialisation at a third of the learning rate
RESTART_SEED_STEP = 1_000_003  # ... with the seed moved on by this (attempt k: seed + k * step)


class Collapsed(RuntimeError):
    """Raised by :class:`HistoryWriter` at the end of an epoch when training has collapsed; ``reason`` says how
    (:func:`genomedl.diagnostics.collapse`)."""

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


AUTO_BATCH_STEPS = 1000  # batch_size auto: large data gets the batch that makes an epoch 1,000-2,000 steps
AUTO_BATCH_LIMIT = 1024  # ... up to this batch size


def power_of_two_below(n: int) -> int:
    """The largest power of two <= ``n`` (1 for n < 2)."""
    return 1 << max(n, 1).bit_length() - 1


def global_batch_size(setting: int | str, n_train: int, small: int = 64) -> int:
    """A models entry's ``batch_size``: an int as given, or "auto". Small data: ``n_train / 4`` rounded down to a
    power of two, clipped to 8..``small`` (``auto_batch_small``; 106 promoter sequences get 16, 1,700 splice
    windows 64). Large data: ``n_train / 1000`` rounded down to a power of two when that is larger, at most 1024
    (at most about 2,000 steps an epoch: 1 M windows get 512)."""
    if setting != "auto":
        return int(setting)
    small_data = min(small, max(8, power_of_two_below(n_train // 4)))
    return min(AUTO_BATCH_LIMIT, max(small_data, power_of_two_below(n_train // AUTO_BATCH_STEPS)))


def weight_average(ema_epochs: float, steps_per_epoch: int) -> list[L.Callback]:
    """An exponential moving average of the weights over about ``ema_epochs`` epochs (decay per optimizer step
    1 - 1 / (ema_epochs * steps_per_epoch)); validation, checkpoints and the saved model use the average. [] when 0."""
    if not ema_epochs:
        return []
    decay = 1 - 1 / max(ema_epochs * steps_per_epoch, 1)
    return [L.pytorch.callbacks.EMAWeightAveraging(decay=decay)]


def restart_settings(settings: dict, seed: int, attempt: int) -> tuple[dict, int]:
    """The settings and seed of training attempt ``attempt`` (0 = the first): each restart after a collapse
    trains from a fresh initialisation (a derived seed) at ``RESTART_LR_FACTOR`` times the previous lr."""
    if not attempt:
        return settings, seed
    return {**settings, "lr": settings["lr"] * RESTART_LR_FACTOR**attempt}, seed + RESTART_SEED_STEP * attempt


def restarts_path(ckpt_dir: Path) -> Path:
    """Where the collapsed attempts of a run in progress are kept (beside the checkpoints, removed at the end)."""
    return ckpt_dir.with_suffix(".restarts.json")


def clear_checkpoints(ckpt_dir: Path) -> None:
    """Remove the checkpoints, their settings stamp and the record of collapsed attempts."""
    shutil.rmtree(ckpt_dir, ignore_errors=True)
    ckpt_dir.with_suffix(".json").unlink(missing_ok=True)
    restarts_path(ckpt_dir).unlink(missing_ok=True)


def earlier_restarts(ckpt_dir: Path, stamp: dict) -> list[dict]:
    """The collapsed attempts that a killed run of the same settings recorded (:func:`restarts_path`)."""
    path = restarts_path(ckpt_dir)
    if not path.exists():
        return []
    kept = read_json(path)
    return list(kept["restarts"]) if kept.get("stamp") == stamp else []


def collapse_message(name: str, dataset: str, restarts: list[dict]) -> str:
    """One line: the model did not learn, and every attempt's learning rate and why it was stopped."""
    tried = "; ".join(f"lr {r['lr']:.3g} (seed {r['seed']}): {r['reason']}" for r in restarts)
    return (
        f"model {name} of dataset {dataset} did not learn in {len(restarts)} attempt{'s' * (len(restarts) > 1)} "
        "from fresh initialisations: "
        f"{tried}; check that the labels follow the sequences (compare the baselines), or change models.{name}.lr "
        f"or models.{name}.arch"
    )


@dataclass
class Fit:
    """One training attempt: the module (last weights), its trainer and callbacks, and how it was run."""

    module: SequenceClassifier
    trainer: L.Trainer
    best: L.pytorch.callbacks.ModelCheckpoint
    history: HistoryWriter
    batch_size: int
    epoch_counts: list[int]
    world: int
    on_gpu: bool
    resumed_from: int | None
    seconds: float


def fit(data, out_dir: Path, name: str, settings: dict, seed: int, log) -> Fit | None:
    """Train one attempt with ``settings`` and ``seed``, resuming from its own last checkpoint; raises
    :class:`Collapsed` when training collapses. None on DDP ranks other than zero."""
    L.seed_everything(seed, workers=True, verbose=False)
    train, val = data.parts["train"], data.parts["val"]
    batch_size = global_batch_size(settings["batch_size"], len(train.labels), settings["auto_batch_small"])
    if batch_size > len(train.labels):
        log(
            f"warning: model {name}: batch_size {batch_size} is larger than the {len(train.labels)} "
            f"training windows, so every epoch is one step; lower models.{name}.batch_size"
        )
    hyper = {k: v for k, v in settings.items() if k not in ENGINE_KEYS}
    sampler, weights, epoch_counts = make_train_sampler(train.labels, settings["imbalance"], seed, len(data.classes))
    loss_weights = weights.tolist() if weights is not None else [1.0] * len(data.classes)
    monitor, patience = settings["monitor"], int(settings["patience"])
    module = SequenceClassifier(
        settings["arch"],
        data.length,
        len(data.classes),
        hyper,
        loss_weights,
        plateau_patience=max(patience // 2, 1),
        **{k: settings[k] for k in MODULE_KEYS if k in settings},
    )
    pretokenize = getattr(module.model, "pretokenize", None)
    if pretokenize is not None:  # published language models: their tokenizer runs once, here, not every step
        pretokenize(np.concatenate([train.tokens, val.tokens]))
    layout = cluster_layout(settings)
    on_gpu = layout["accelerator"] == "gpu"
    precision = precision_for(str(settings["precision"]), on_gpu, on_gpu and native_bf16())
    world = layout["devices"] * layout["num_nodes"]
    batch = max(batch_size // world, 1)  # batch_size is global: split over ranks
    workers = int(settings["num_workers"])
    # compiled models: every batch one shape (full training batches, a padded last validation batch), no recompiles
    shapes = {"pin_memory": on_gpu, "num_workers": workers, "fixed_shape": bool(settings["compile"])}
    train_loader = loader(train, batch, shuffle_seed=seed, distributed=world > 1, sampler=sampler, **shapes)
    val_loader = loader(val, max(batch, 256), **shapes)
    ckpt_dir = out_dir / "checkpoints"
    resume = resume_point(ckpt_dir, settings, seed, log, rank_zero=rank_zero_only.rank == 0)
    resumed_from = int(torch.load(resume, map_location="cpu", weights_only=True)["epoch"]) + 1 if resume else None
    mode = MONITOR_MODE[monitor]
    ema = weight_average(float(settings["ema_epochs"]), len(train_loader))
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
    counts = [epoch_counts[c] for c in range(len(data.classes))]
    prior = prior_loss(counts, loss_weights, float(settings["label_smoothing"]))
    history = HistoryWriter(out_dir / "history.tsv", log, plain_lines=not os.isatty(2), prior=prior)
    stop = L.pytorch.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=patience)
    if resume:
        log(f"train: resuming {name} from {resume} (epoch {resumed_from} done)")
    log(
        f"train: {name} ({settings['arch']}) on {layout['devices']} x {layout['num_nodes']} "
        f"{layout['accelerator']} ({layout['strategy']}), precision {precision}, batch {batch} per rank"
    )
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    with torch_flags_kept():  # deterministic=True turns a process-wide flag on: off again after fit
        deterministic = True if not on_gpu else ("warn" if settings["deterministic"] else False)
        torch.backends.cudnn.benchmark = on_gpu and not deterministic
        trainer = L.Trainer(
            max_epochs=int(settings["epochs"]),
            precision=precision,
            deterministic=deterministic,
            logger=False,
            callbacks=[EpochSeed(seed), *ema, best, last, history, stop],
            plugins=[AtomicCheckpointIO()],
            enable_progress_bar=os.isatty(2),
            enable_model_summary=False,
            default_root_dir=out_dir,
            **layout,
        )
        t0 = time.time()
        try:
            trainer.fit(module, train_loader, val_loader, ckpt_path=resume)
        except NonFiniteLoss as exc:
            raise GenomedlError(nan_message(name, exc, history.rows, ckpt_dir)) from None
        except torch.OutOfMemoryError:
            raise GenomedlError(
                f"model {name}: CUDA out of memory at batch_size {batch * world}; try "
                f"models.{name}.batch_size: {max(batch * world // 2, 1)} (or a smaller model)"
            ) from None
    if not trainer.is_global_zero:
        return None
    return Fit(module, trainer, best, history, batch_size, epoch_counts, world, on_gpu, resumed_from, time.time() - t0)


def strand_setting(settings: dict, qc: Path | None, name: str) -> tuple[bool, str]:
    """``rc_augment`` as trained and why: as set, or for ``auto`` the quality gate's strand verdict (qc.json
    ``strands``, :func:`genomedl.qc.strands`); without one, the forward strand."""
    if settings["rc_augment"] != "auto":
        return bool(settings["rc_augment"]), f"models.{name}.rc_augment: {str(settings['rc_augment']).lower()}"
    found = read_json(qc).get("strands") if qc is not None and Path(qc).exists() else None
    if found is None:
        return False, "rc_augment auto without a strand verdict of the quality gate (qc.json): the forward strand"
    return bool(found["rc_augment"]), f"rc_augment auto, from the quality gate: {found['reason']}"


def run_train(
    tokens: Path,
    meta: Path,
    labels: Path,
    split: Path,
    out_dir: Path,
    name: str,
    settings: dict,
    seed: int,
    qc: Path | None = None,
    log=print,
) -> dict:
    """Train ``settings['arch']`` (schema section ``model``, entry ``models.<name>``) into ``out_dir``;
    engine keys come from ``settings``, every other key is a model hyperparameter; ``rc_augment: auto`` follows
    the strand verdict in ``qc`` (:func:`strand_setting`). A run that collapses
    (:func:`genomedl.diagnostics.collapse`) restarts from a fresh initialisation at a lower learning rate,
    up to ``restarts`` times (:func:`restart_settings`), then stops with one line."""
    settings = stage_settings("model", settings, f"models.{name}")
    rc_augment, strands_from = strand_setting(settings, qc, name)
    settings = {**settings, "rc_augment": rc_augment}  # as trained: evaluation scores the strands it learned
    log(f"train: {name} learns {'both strands' if rc_augment else 'the forward strand'} ({strands_from})")
    dataset = Path(tokens).resolve().parent.parent.name  # results/{dataset}/encoded/tokens.npy
    started = utc_now()
    data = load_dataset(tokens, meta, labels, split)
    if len(data.parts["train"].labels) == 0 or len(data.parts["val"].labels) == 0:
        raise GenomedlError(f"{split}: the train or val split is empty; adjust split fractions")
    ckpt_dir = out_dir / "checkpoints"
    stamp = {"config_hash": config_hash({**settings, "seed": seed})}
    restarts = earlier_restarts(ckpt_dir, stamp)
    while True:
        tried, tried_seed = restart_settings(settings, seed, len(restarts))
        try:
            fitted = fit(data, out_dir, name, tried, tried_seed, log)
            break
        except Collapsed as exc:
            restarts.append({"attempt": len(restarts) + 1, "lr": tried["lr"], "seed": tried_seed, "reason": exc.reason})
            if len(restarts) > settings["restarts"]:
                clear_checkpoints(ckpt_dir)  # a rerun starts again from the first attempt
                raise GenomedlError(collapse_message(name, dataset, restarts)) from None
            next_lr = restart_settings(settings, seed, len(restarts))[0]["lr"]
            log(
                f"warning: model {name} of dataset {dataset} collapsed: {exc.reason}; restart {len(restarts)} of "
                f"{settings['restarts']} from a fresh initialisation at lr {next_lr:.3g}"
            )
            if rank_zero_only.rank == 0:
                write_json({"stamp": stamp, "restarts": restarts}, restarts_path(ckpt_dir))
    if fitted is None:
        return {}
    extra = {"started_at": started, "restarts": restarts, "strands_from": strands_from}
    return finish(fitted, data, out_dir, name, settings, seed, extra, log)


def finish(fitted: Fit, data, out_dir: Path, name: str, settings: dict, seed: int, extra: dict, log) -> dict:
    """Save the best checkpoint's weights as ``model.ckpt``, write ``run.json``, remove the checkpoints."""
    module, best, rows = fitted.module, fitted.best, fitted.history.rows
    best_ckpt = torch.load(best.best_model_path, map_location="cpu", weights_only=True)
    module.load_state_dict(best_ckpt["state_dict"])
    save_model(out_dir / "model.ckpt", module, data.classes)
    best_epoch, monitor = int(best_ckpt["epoch"]) + 1, settings["monitor"]
    score = float(best.best_model_score)
    run = {
        **model_record(name, settings["arch"], settings, seed, data.classes, data.length, data.parts["train"].labels),
        "class_weights": [round(w, 6) for w in module.hparams.class_weights],
        "imbalance": settings["imbalance"],
        "epoch_class_counts": {c: fitted.epoch_counts[i] for i, c in enumerate(data.classes)},
        "batch_size": fitted.batch_size,
        "epochs_run": fitted.trainer.current_epoch,
        "best_epoch": best_epoch,
        "monitor": monitor,
        "monitor_mode": MONITOR_MODE[monitor],
        "best_score": score,
        "best_val_loss": next((r["val_loss"] for r in rows if r["epoch"] == best_epoch), None),
        "fit_verdict": fit_verdict([r["train_loss"] for r in rows], [r["val_loss"] for r in rows], len(data.classes)),
        "grad_flags": sorted({f for r in rows for f in r["grad_flags"].split(";") if f}),
        "strands_from": extra["strands_from"],  # why settings.rc_augment is what it is
        "restarts": extra["restarts"],  # collapsed attempts before the one kept ([] when the first learned)
        "trained_lr": module.hparams.lr,
        "trained_seed": seed + RESTART_SEED_STEP * len(extra["restarts"]),
        "sweep": settings.get("sweep"),
        "resumed": fitted.resumed_from is not None,
        "resumed_from_epoch": fitted.resumed_from,
        "samples_per_rank": module.samples_per_rank,
        "world_size": fitted.world,
        "precision": fitted.trainer.precision,  # as Lightning ran it ("bf16-mixed", "16-mixed", "32-true")
        "train_seconds": round(fitted.seconds, 2),
        "versions": versions(),
        "git_commit": git_commit(),
        "hardware": hardware(torch.cuda.get_device_name() if fitted.on_gpu else "cpu"),
        "started_at": extra["started_at"],
        "finished_at": utc_now(),
    }
    write_json(run, out_dir / "run.json")
    clear_checkpoints(out_dir / "checkpoints")  # finished: a rerun (new code, say) trains afresh
    verdict = run["fit_verdict"]["verdict"]
    log(f"train: {name} best epoch {best_epoch} {monitor} {score:.4f}; fit: {verdict}")
    return run
