"""The training engine: one Lightning module for every architecture in the registry.

Reverse-complement augmentation during training and strand averaging at prediction are handled
here, so that every model sees both strands of DNA. The module also gathers the per-epoch
diagnostics (train accuracy, global and per-layer gradient norms) and watches for non-finite loss.
"""

from __future__ import annotations

import math

import lightning as L
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from genomedl.config import stage_settings
from genomedl.config.keys import MODULE_KEYS
from genomedl.data.loaders import PAD_LABEL
from genomedl.inference import strand_averaged_logits
from genomedl.models import build_model
from genomedl.models.layers import reverse_complement_tokens

MONITOR_MODE = {"val_loss": "min", "val_auroc": "max", "val_acc": "max"}


STEP_CODE = 10**9  # first bad batch encoded as epoch * STEP_CODE + batch index (both 0-based)


class NonFiniteLoss(RuntimeError):
    """Raised by the module when a training loss was NaN or infinite; ``epoch``, ``step`` are 1-based."""

    def __init__(self, code: int):
        self.epoch, self.step = code // STEP_CODE + 1, code % STEP_CODE + 1
        super().__init__(f"non-finite loss at epoch {self.epoch}, step {self.step}")


def initialise(model: nn.Module, scheme: str) -> None:
    """Re-initialise weights: "default" (PyTorch's), "kaiming" (He normal, ReLU) or "xavier" (Glorot uniform).

    Conv/Linear weights get the scheme and zero biases; recurrent input weights get Xavier and
    recurrent (hidden-to-hidden) weights orthogonal initialisation.
    """
    if scheme == "default":
        return
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Linear)):
            if scheme == "kaiming":
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            else:
                nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.RNNBase):
            for name, param in module.named_parameters():
                if name.startswith("weight_ih"):
                    nn.init.xavier_uniform_(param)
                elif name.startswith("weight_hh"):
                    nn.init.orthogonal_(param)
                else:
                    nn.init.zeros_(param)


def layer_names(model: nn.Module) -> tuple[list[str], list[int]]:
    """Layers (parameter names without ``.weight``/``.bias``) and, per parameter, the index of its layer."""
    layers: list[str] = []
    index = []
    for name, _ in model.named_parameters():
        layer = name.rsplit(".", 1)[0] if "." in name else name
        if layer not in layers:
            layers.append(layer)
        index.append(layers.index(layer))
    return layers, index


class SequenceClassifier(L.LightningModule):
    """Wraps a registry model; the loss is class-weighted cross-entropy over logits ``[B, C]``.

    Optimiser "adamw" or "sgd" (momentum, Nesterov); schedule "none", "onecycle", "cosine" (linear
    warm-up over ``warmup_epochs`` then cosine decay, per step) or "plateau" (halve the learning rate
    when ``monitor`` stalls for ``patience`` epochs).
    """

    def __init__(
        self,
        arch: str,
        length: int,
        n_classes: int,
        hyper: dict,
        class_weights: list[float],
        engine: dict | None = None,
    ):
        """``engine``: module keys of a models entry (:data:`~genomedl.config.keys.MODULE_KEYS`, and ``patience``,
        which sets the plateau schedule's); the schema's defaults for ``arch`` fill the rest. ``rc_augment`` must be
        resolved (true or false): the train stage resolves ``auto`` (:func:`genomedl.training.run.strand_setting`)."""
        super().__init__()
        settings = stage_settings("model", {"arch": arch, **(engine or {})})
        if settings["rc_augment"] not in (True, False):
            raise TypeError(f"rc_augment must be true or false here, not {settings['rc_augment']!r}")
        module = {k: settings[k] for k in MODULE_KEYS}
        plateau_patience = max(int(settings["patience"]) // 2, 1)
        self.save_hyperparameters(
            {"arch": arch, "length": length, "n_classes": n_classes, "hyper": hyper, "class_weights": class_weights}
            | module
            | {"plateau_patience": plateau_patience}
        )
        init, compile = module["init"], module["compile"]
        self.model = build_model(arch, length=length, n_classes=n_classes, **hyper)
        initialise(self.model, init)
        if compile:
            self.model.compile()
        self.register_buffer("weights", torch.tensor(class_weights, dtype=torch.float32))
        self.layers, index = layer_names(self.model)
        self.register_buffer("layer_of_param", torch.tensor(index, dtype=torch.long), persistent=False)
        self._val_outputs: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.samples_trained, self.samples_per_rank = 0, []
        self._reset_epoch_stats()

    def _reset_epoch_stats(self) -> None:
        self._stats: dict[str, torch.Tensor] = {}
        self._seen = 0
        self._first_bad: torch.Tensor | None = None

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model(tokens)

    def _accumulate(self, name: str, value: torch.Tensor, reduce=torch.add) -> None:
        value = value.detach().float()
        self._stats[name] = value if name not in self._stats else reduce(self._stats[name], value)

    def training_step(self, batch, batch_idx):
        tokens, labels = batch
        if self.hparams.rc_augment:
            flip = torch.rand(tokens.shape[0], device=tokens.device) < 0.5
            tokens = torch.where(flip[:, None], reverse_complement_tokens(tokens), tokens)
        logits = self(tokens)
        loss = F.cross_entropy(
            logits.float(), labels, weight=self.weights, label_smoothing=self.hparams.label_smoothing
        )
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=len(labels), sync_dist=True)
        self._accumulate("correct", (logits.argmax(1) == labels).sum())
        self._seen += len(labels)
        self.samples_trained += len(labels)
        bad = ~torch.isfinite(loss.detach())
        first = self._first_bad if self._first_bad is not None else torch.full((), -1, device=loss.device)
        self._first_bad = torch.where(bad & (first < 0), self.current_epoch * STEP_CODE + batch_idx, first)
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx):
        if self.device.type == "cpu" or (batch_idx + 1) % 50 == 0:
            self.check_finite()

    def on_train_end(self):
        """Gather how many training samples each DDP rank processed in this session."""
        counts = self.all_gather(torch.tensor(self.samples_trained, device=self.device))
        self.samples_per_rank = torch.atleast_1d(counts).tolist()

    def check_finite(self) -> None:
        """Raise :class:`NonFiniteLoss` if any training loss so far was NaN/inf (one device sync)."""
        if self._first_bad is not None and int(self._first_bad) >= 0:
            raise NonFiniteLoss(int(self._first_bad))

    def on_before_optimizer_step(self, optimizer):
        """Accumulate the global and per-layer gradient L2 norms of this step, then clip to ``gradient_clip``.

        The norms come from one ``torch._foreach_norm`` call and serve both the diagnostics and the clipping
        (same rule as ``clip_grad_norm_``). Lightning calls this hook after the fp16 loss scaler has unscaled
        the gradients (see :func:`make_optimizer`), so both see true gradients.
        """
        params = list(self.model.parameters())
        has_grad = [p.grad is not None for p in params]
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return
        norms = torch.stack(torch._foreach_norm(grads)).float()
        index = self.layer_of_param if all(has_grad) else self.layer_of_param[torch.tensor(has_grad).to(self.device)]
        per_layer = torch.zeros(len(self.layers), device=norms.device).index_add_(0, index, norms**2)
        total = per_layer.sum().sqrt()
        if self.hparams.gradient_clip > 0:
            torch._foreach_mul_(grads, (self.hparams.gradient_clip / (total + 1e-6)).clamp(max=1.0))
        finite = torch.isfinite(total)  # fp16: a step the loss scaler skips (overflow) is left out of the means
        self._accumulate("layer_norm_sum", torch.where(finite, per_layer.sqrt(), 0.0))
        self._accumulate("norm_sum", torch.where(finite, total, 0.0))
        self._accumulate("norm_max", torch.where(finite, total, 0.0), torch.maximum)
        self._accumulate("norm_steps", finite)

    def epoch_diagnostics(self) -> dict[str, float]:
        """Train accuracy and the epoch's mean/max global and mean per-layer gradient norms; then reset."""
        stats = {k: v.cpu() for k, v in self._stats.items()}
        steps = max(float(stats.get("norm_steps", 0)), 1.0)
        out = {}
        if "correct" in stats:
            out["train_acc"] = float(stats["correct"]) / max(self._seen, 1)
        if "norm_sum" in stats:
            out["grad_norm"] = float(stats["norm_sum"]) / steps
            out["grad_norm_max"] = float(stats["norm_max"])
            for layer, value in zip(self.layers, stats["layer_norm_sum"].tolist()):
                out[f"grad_norm/{layer}"] = value / steps
        first_bad = self._first_bad
        self._reset_epoch_stats()
        self._first_bad = first_bad
        return out

    def validation_step(self, batch, batch_idx):
        """Scores a batch on the forward strand (both, averaged, with ``val_both_strands``); rows labelled
        ``PAD_LABEL`` (padding of the last batch, see :class:`genomedl.data.loaders.PadLast`) are left out."""
        tokens, labels = batch
        if self.hparams.val_both_strands:
            logits = strand_averaged_logits(self.model, tokens)
        else:
            logits = self.model(tokens).float().log_softmax(-1)
        real = labels != PAD_LABEL
        logits, labels = logits[real], labels[real]
        loss = F.cross_entropy(logits, labels, weight=self.weights)
        self.log("val_loss", loss, on_step=False, on_epoch=True, batch_size=len(labels), sync_dist=True)
        self._val_outputs.append((logits.softmax(-1).float(), labels))

    def on_validation_epoch_end(self):
        probs = torch.cat([p for p, _ in self._val_outputs])
        labels = torch.cat([y for _, y in self._val_outputs])
        self._val_outputs.clear()
        if self.trainer.world_size > 1:  # every rank scores the whole validation split
            probs = self.all_gather(probs).flatten(0, 1)
            labels = self.all_gather(labels).flatten(0, 1)
        probs, labels = probs.cpu().numpy(), labels.cpu().numpy()
        self.log("val_auroc", float(macro_auroc(labels, probs)))
        self.log("val_acc", float((probs.argmax(1) == labels).mean()))

    def configure_optimizers(self):
        hp = self.hparams
        optimizer = make_optimizer(self.parameters(), hp, on_cuda(self), self.trainer.precision)
        if hp.schedule == "none":
            return optimizer
        if hp.schedule == "plateau":
            scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode=MONITOR_MODE[hp.monitor], factor=0.5, patience=hp.plateau_patience
            )
            return {
                "optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "monitor": hp.monitor, "interval": "epoch"},
            }
        total = int(self.trainer.estimated_stepping_batches)
        warmup = int(round(hp.warmup_epochs * total / max(self.trainer.max_epochs, 1)))
        if hp.schedule == "onecycle":
            scheduler = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=hp.lr, total_steps=max(total, 2), pct_start=warmup / total if warmup else 0.3
            )
        else:
            scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: warmup_cosine(step, warmup, total))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def on_cuda(module: nn.Module) -> bool:
    """Whether the module's parameters live on a CUDA device."""
    return next(module.parameters()).device.type == "cuda"


def fused_adamw(on_gpu: bool, precision: str) -> bool:
    """Fused AdamW on CUDA, except under fp16 loss scaling (Lightning precision "16-mixed").

    A fused AdamW unscales the gradients inside its own step, so Lightning skips the scaler's ``unscale_``:
    ``on_before_optimizer_step`` would see gradients still multiplied by the loss scale (wrong norms, and
    clipping at a threshold 2**16 times too high), and Lightning's ``gradient_clip_val`` refuses such an
    optimizer ("AdamW does not allow for gradient clipping"). Under "16-mixed" the foreach AdamW is used
    instead: the scaler unscales before the hook, where the module measures and clips the true gradients.
    fp16 is only picked for GPUs without native bf16 (V100, T4), where the fused step gains little.
    """
    return on_gpu and precision != "16-mixed"


def make_optimizer(params, hp, on_gpu: bool, precision: str) -> torch.optim.Optimizer:
    """SGD (momentum, Nesterov) or AdamW (fused where :func:`fused_adamw` allows) from the module's hparams."""
    if hp.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=hp.lr, momentum=hp.momentum, weight_decay=hp.weight_decay, nesterov=hp.momentum > 0
        )
    return torch.optim.AdamW(params, lr=hp.lr, weight_decay=hp.weight_decay, fused=fused_adamw(on_gpu, precision))


def warmup_cosine(step: int, warmup: int, total: int) -> float:
    """Learning-rate factor: linear from 1/warmup up to 1 over ``warmup`` steps, then cosine down to 0 at ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def macro_auroc(labels: np.ndarray, probs: np.ndarray) -> float:
    """One-vs-rest macro AUROC; NaN when a class is missing from ``labels``."""
    if len(np.unique(labels)) < 2:
        return float("nan")
    if probs.shape[1] == 2:
        return roc_auc_score(labels, probs[:, 1])
    present = np.unique(labels)
    if len(present) < probs.shape[1]:
        return float("nan")
    return roc_auc_score(labels, probs, multi_class="ovr", average="macro")
