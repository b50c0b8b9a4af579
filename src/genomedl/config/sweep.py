"""Hyperparameter sweeps: a model entry that lists several values becomes one model per combination.

``{"cnn": {"arch": "cnn", "lr": [0.001, 0.0003], "filters": [64, 64]}}`` gives ``cnn__lr-0.001`` and
``cnn__lr-0.0003``. A key whose single value is already a list (``LIST_VALUED``: ``filters``, ``hidden``...)
is swept only when given a list of lists. Torch-free, so the Snakefile can import it cheaply.
"""

from __future__ import annotations

import itertools
import math
import re

from genomedl.config.validate import arch_defaults
from genomedl.errors import GenomedlError

LIST_VALUED = frozenset({"filters", "kernels", "pools", "strides", "dilations", "hidden", "k"})
SEP = "__"
_SAFE = re.compile(r"^[A-Za-z0-9.+-]+$")


def _is_sweep(key: str, value) -> bool:
    if not isinstance(value, list):
        return False
    if key in LIST_VALUED:
        return len(value) > 0 and all(isinstance(v, list) for v in value)
    return True


def _label(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "x".join(_label(v) for v in value)
    return repr(value) if isinstance(value, float) else str(value)


def expand_sweeps(models: dict[str, dict]) -> dict[str, dict]:
    """Model name -> settings with one value per key; swept entries carry ``sweep: {group, params}``."""
    out: dict[str, dict] = {}
    for name, settings in models.items():
        axes = sorted(k for k, v in settings.items() if _is_sweep(k, v))
        if not axes:
            out[name] = dict(settings)
            continue
        for key in axes:
            if len(settings[key]) == 0:
                raise GenomedlError(f"config key models.{name}.{key}: an empty list; give at least one value")
        for combo in itertools.product(*(settings[k] for k in axes)):
            params = dict(zip(axes, combo))
            labels = [f"{k}-{_label(v)}" for k, v in params.items()]
            bad = [label for label in labels if not _SAFE.match(label)]
            if bad:
                raise GenomedlError(
                    f"config key models.{name}: sweep value {bad[0]!r} cannot be part of a model "
                    "name; use letters, digits, '.', '+' and '-' only"
                )
            member = {**settings, **params, "sweep": {"group": name, "params": params}}
            if "arch" in params:  # the defaults that depend on the architecture (left out while arch was a list)
                member = {**arch_defaults(params["arch"]), **member}
            out[SEP.join([name, *labels])] = member
    return out


def sweep_winners(runs: dict[str, dict]) -> dict[str, str]:
    """Sweep group -> name of its best model on the validation split, from each model's ``run.json``.

    Uses ``best_score`` (the monitored validation metric at the best epoch) and ``monitor_mode`` (min/max);
    runs without a score (NaN or missing) never win.
    """
    best: dict[str, tuple[float, str]] = {}
    for name, run in runs.items():
        group = (run.get("sweep") or {}).get("group")
        score = run.get("best_score")
        if group is None or score is None or math.isnan(score):
            continue
        key = score if run.get("monitor_mode", "min") == "min" else -score
        if group not in best or (key, name) < best[group]:
            best[group] = (key, name)
    return {group: name for group, (_, name) in best.items()}
