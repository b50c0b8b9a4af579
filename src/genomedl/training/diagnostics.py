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
STUCK = 0.98  # train loss at or above 98 % of the best constant guess's loss: stuck at the label prior
CHANCE_AUROC = 0.55  # validation AUROC below this counts as chance level
STUCK_EPOCHS = 3  # a collapse: stuck at the prior with validation at chance for this many epochs in a row ...


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


def prior_loss(class_counts: list[int], class_weights: list[float], smoothing: float = 0.0) -> float:
    """The training loss (nats) of the best constant prediction: the entropy of the class prior as the loss sees
    it (counts ``[C]`` reweighted by ``class_weights``, then smoothed by ``smoothing`` as in label smoothing)."""
    mass = [n * w for n, w in zip(class_counts, class_weights)]
    total = sum(mass)
    if total <= 0:
        return float("nan")
    prior = [(1 - smoothing) * m / total + smoothing / len(mass) for m in mass]
    return -sum(p * math.log(p) for p in prior if p > 0)


def all_layers_vanishing(row: dict) -> bool:
    """Whether an epoch's history row flags every layer's gradient as vanishing (:func:`flag_layers`)."""
    layers = {k.split("/", 1)[1] for k in row if k.startswith("grad_norm/")}
    flagged = {f.rsplit(":", 1)[0] for f in str(row.get("grad_flags") or "").split(";") if f.endswith(":vanishing")}
    return bool(layers) and layers <= flagged


def collapse(rows: list[dict], prior: float) -> str | None:
    """Why training has collapsed, or None. Collapsed: the last epoch's train loss is stuck at the label prior
    (at least ``STUCK`` x ``prior``, :func:`prior_loss`) and either every layer's gradient vanished that epoch
    (a network that cannot recover), or the train loss was stuck and validation AUROC below ``CHANCE_AUROC``
    for ``STUCK_EPOCHS`` epochs in a row. ``rows``: history rows (train_loss, val_auroc, grad_norm/*, grad_flags)."""
    stuck = lambda r: math.isfinite(prior) and r.get("train_loss", 0.0) >= STUCK * prior
    chance = lambda r: r.get("val_auroc", 1.0) < CHANCE_AUROC  # NaN (a class missing from val) is not chance
    if not rows or not stuck(rows[-1]):
        return None
    last = rows[-1]
    if all_layers_vanishing(last):
        return (
            f"train loss {last['train_loss']:.4f} stuck at the label prior ({prior:.4f}) and every layer's gradient "
            f"vanished at epoch {last['epoch']}"
        )
    recent = rows[-STUCK_EPOCHS:]
    if len(recent) == STUCK_EPOCHS and all(stuck(r) and chance(r) for r in recent):
        aurocs = ", ".join(f"{r['val_auroc']:.3f}" for r in recent)
        return (
            f"train loss stuck at the label prior ({prior:.4f}) and validation AUROC at chance ({aurocs}) "
            f"for epochs {recent[0]['epoch']}-{last['epoch']}"
        )
    return None
