"""The training engine: one Lightning module for every architecture in the registry.

Reverse-complement augmentation during training and strand averaging at prediction are handled
here, so that every model sees both strands of DNA.
"""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from .models import build_model
from .models.layers import reverse_complement_tokens


class SequenceClassifier(L.LightningModule):
    """Wraps a registry model; the loss is class-weighted cross-entropy over logits ``[B, C]``."""

    def __init__(self, arch: str, length: int, n_classes: int, hyper: dict, class_weights: list[float],
                 lr: float = 1e-3, weight_decay: float = 1e-2, rc_augment: bool = True):
        super().__init__()
        self.save_hyperparameters()
        self.model = build_model(arch, length=length, n_classes=n_classes, **hyper)
        self.register_buffer("weights", torch.tensor(class_weights, dtype=torch.float32))
        self._val_outputs: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model(tokens)

    def training_step(self, batch, batch_idx):
        tokens, labels = batch
        if self.hparams.rc_augment:
            flip = torch.rand(tokens.shape[0], device=tokens.device) < 0.5
            tokens = torch.where(flip[:, None], reverse_complement_tokens(tokens), tokens)
        loss = F.cross_entropy(self(tokens), labels, weight=self.weights)
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=len(labels))
        return loss

    def validation_step(self, batch, batch_idx):
        tokens, labels = batch
        logits = strand_averaged_logits(self.model, tokens)
        loss = F.cross_entropy(logits, labels, weight=self.weights)
        self.log("val_loss", loss, on_step=False, on_epoch=True, batch_size=len(labels))
        self._val_outputs.append((logits.softmax(-1).float().cpu(), labels.cpu()))

    def on_validation_epoch_end(self):
        probs = torch.cat([p for p, _ in self._val_outputs]).numpy()
        labels = torch.cat([y for _, y in self._val_outputs]).numpy()
        self._val_outputs.clear()
        self.log("val_auroc", float(macro_auroc(labels, probs)))
        self.log("val_acc", float((probs.argmax(1) == labels).mean()))

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)


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


def strand_averaged_logits(model: torch.nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """Log of the mean of both strands' class probabilities, ``[B, C]``."""
    forward = model(tokens).float().log_softmax(-1)
    reverse = model(reverse_complement_tokens(tokens)).float().log_softmax(-1)
    return torch.logsumexp(torch.stack([forward, reverse]), dim=0) - np.log(2.0)


@torch.no_grad()
def predict_proba(model: torch.nn.Module, tokens: np.ndarray, batch_size: int = 512,
                  device: str = "cpu") -> np.ndarray:
    """Class probabilities ``[N, C]`` (float64), both strands averaged, in batches."""
    model.eval().to(device)
    out = []
    for start in range(0, len(tokens), batch_size):
        batch = torch.from_numpy(np.ascontiguousarray(tokens[start:start + batch_size])).to(device)
        out.append(strand_averaged_logits(model, batch).softmax(-1).double().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))
