"""Inference without the training engine: rebuild a saved model and score token windows.

Importing this module loads torch and the model registry only (not Lightning), so the stages that
use trained models (evaluate, predict, export, interpret) start in a fraction of a training job's time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from genomedl.models.layers import reverse_complement_tokens


def load_model(path: Path) -> tuple[torch.nn.Module, dict]:
    """Rebuild a model saved by ``train.save_model``; never unpickles code (``weights_only=True``)."""
    from genomedl.models import build_model

    payload = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(
        payload["arch"], length=payload["length"], n_classes=len(payload["classes"]), **payload["hyper"]
    )
    model.load_state_dict(payload["state_dict"])
    return model.eval(), payload


def strand_averaged_logits(model: torch.nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """Log of the mean of both strands' class probabilities, ``[B, C]``."""
    forward = model(tokens).float().log_softmax(-1)
    reverse = model(reverse_complement_tokens(tokens)).float().log_softmax(-1)
    return torch.logsumexp(torch.stack([forward, reverse]), dim=0) - np.log(2.0)


@torch.no_grad()
def predict_proba(
    model: torch.nn.Module,
    tokens: np.ndarray,
    batch_size: int = 512,
    device: str = "cpu",
    both_strands: bool = True,
    on_batch=None,
) -> np.ndarray:
    """Class probabilities ``[N, C]`` (float64) in batches: both strands averaged, or the forward strand
    only (``both_strands=False``); ``on_batch(n)`` is called after each batch of ``n`` windows."""
    model.eval().to(device)
    out = []
    for start in range(0, len(tokens), batch_size):
        batch = torch.from_numpy(np.ascontiguousarray(tokens[start : start + batch_size])).to(device)
        logits = strand_averaged_logits(model, batch) if both_strands else model(batch).float()
        out.append(logits.softmax(-1).double().cpu().numpy())
        if on_batch is not None:
            on_batch(len(batch))
    return np.concatenate(out) if out else np.zeros((0, 0))
