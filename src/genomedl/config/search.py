"""Checks of a models entry's ``search`` block (hyperparameter search, :mod:`genomedl.stages.search`), before any job
starts. Torch- and optuna-free, so the Snakefile can import it cheaply."""

from __future__ import annotations

from genomedl.config.hyperparameters import HYPERPARAMETERS
from genomedl.config.sweep import LIST_VALUED
from genomedl.errors import GenomedlError

# keys that say where and how a model trains, not what it learns: never searched
NOT_SEARCHABLE = frozenset(
    {"arch", "search", "encoder", "accelerator", "devices", "num_nodes", "num_workers", "precision", "compile"}
)


def check_search(name: str, entry: dict, engine_keys) -> None:
    """Refuse a search block of models entry ``name`` (one architecture) whose parameter is not a
    hyperparameter or engine key of it, or whose range or choices cannot be sampled."""
    known = (set(HYPERPARAMETERS.get(entry["arch"], ())) | set(engine_keys)) - NOT_SEARCHABLE
    for key, spec in entry["search"]["params"].items():
        where = f"config key models.{name}.search.params.{key}"
        if key not in known:
            raise GenomedlError(
                f"{where}: not a searchable key of arch {entry['arch']} (searchable: {', '.join(sorted(known))})"
            )
        if key in LIST_VALUED - {"k"}:  # k: the k-mer size of a transformer, the k-mer sizes of a dnn
            raise GenomedlError(f"{where}: {key} takes a list, which cannot be searched; search scalar keys only")
        ranged = "low" in spec or "high" in spec or "step" in spec
        if ("choices" in spec) == ranged:
            raise GenomedlError(f"{where}: give either low and high (a range) or choices")
        if ranged and not ("low" in spec and "high" in spec and spec["low"] < spec["high"]):
            raise GenomedlError(f"{where}: a range needs low < high")
        if spec["log"] and (not ranged or spec["low"] <= 0 or "step" in spec):
            raise GenomedlError(f"{where}: log needs a range with low > 0 and no step")
