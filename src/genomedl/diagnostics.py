"""Training diagnostics from per-epoch history: gradient-norm flags and an over/underfitting verdict.

Plain functions of numbers (no torch), so they are cheap to test and to call from the report.
"""

from __future__ import annotations

import math

EXPLODE_RATIO = 100.0  # layer norm above 100x its first-epoch norm: exploding
COLLAPSE_RATIO = 1e-3  # layer norm below 1/1000 of its first-epoch norm: collapsed
DEPTH_RATIO = 1e-4  # layer norm below 1/10000 of the largest layer norm that epoch: vanishing
RISE = 1.10  # val loss 10 % above its minimum counts as rising
NEAR_CHANCE = 0.8  # train loss above 80 % of ln(C) counts as near chance


def flag_layers(norms: dict[str, float], first: dict[str, float]) -> list[str]:
    """``["layer:exploding", "layer:vanishing", ...]`` for one epoch's mean per-layer gradient norms.

    exploding: non-finite, or above ``EXPLODE_RATIO`` x the layer's first-epoch norm. vanishing: below
    ``COLLAPSE_RATIO`` x its first-epoch norm, or below ``DEPTH_RATIO`` x the largest layer norm.
    """
    finite = [v for v in norms.values() if math.isfinite(v)]
    peak = max(finite, default=0.0)
    flags = []
    for layer, norm in norms.items():
        start = first.get(layer, float("nan"))
        if not math.isfinite(norm) or (start > 0 and norm > EXPLODE_RATIO * start):
            flags.append(f"{layer}:exploding")
        elif norm <= DEPTH_RATIO * peak or (start > 0 and norm < COLLAPSE_RATIO * start):
            flags.append(f"{layer}:vanishing")
    return flags


def fit_verdict(train_loss: list[float], val_loss: list[float], n_classes: int) -> dict:
    """Verdict from the loss curves: overfitting, underfitting, undertrained, good_fit or too_few_epochs.

    Losses are class-weighted cross-entropy per epoch; ``ln(n_classes)`` is the loss of a constant guess.
    Returns ``{"verdict", "reason", "best_epoch"}`` (epochs 1-based).
    """
    pairs = [(t, v) for t, v in zip(train_loss, val_loss) if math.isfinite(t) and math.isfinite(v)]
    if len(pairs) < 2:
        return {"verdict": "too_few_epochs", "reason": "fewer than 2 epochs with finite losses", "best_epoch": None}
    train, val = [p[0] for p in pairs], [p[1] for p in pairs]
    best = min(range(len(val)), key=val.__getitem__)
    chance = math.log(n_classes)
    if min(train) > NEAR_CHANCE * chance:
        verdict, reason = (
            "underfitting",
            (
                f"train loss never fell below {NEAR_CHANCE:.0%} of chance level "
                f"ln({n_classes}) = {chance:.3f}: use a larger model, another learning "
                "rate, or more epochs"
            ),
        )
    elif best < len(val) - 1 and val[-1] > RISE * val[best] and train[-1] < train[best]:
        verdict, reason = (
            "overfitting",
            (
                f"val loss rose from {val[best]:.4f} (epoch {best + 1}) to {val[-1]:.4f} "
                "while train loss kept falling: the best epoch is kept; more data, "
                "dropout, weight decay or augmentation would help"
            ),
        )
    elif best == len(val) - 1 and val[-2] - val[-1] > 0.01 * val[-2]:
        verdict, reason = "undertrained", "val loss was still falling at the last epoch: raise epochs"
    else:
        verdict, reason = "good_fit", f"val loss levelled off at its minimum (epoch {best + 1})"
    return {"verdict": verdict, "reason": reason, "best_epoch": best + 1}
