"""The hyperparameters each architecture takes (its constructor's keywords besides ``length`` and
``n_classes``), torch-free so that ``genomedl.config.resolve`` checks a models entry before any job starts.
tests/test_models.py checks this table against the registered constructors."""

from __future__ import annotations

from genomedl.errors import GenomedlError

_RECURRENT = ("hidden_size", "layers", "bidirectional", "pooling", "bins", "dropout", "hidden")
HYPERPARAMETERS: dict[str, tuple[str, ...]] = {
    "cnn": (
        "filters",
        "kernels",
        "pools",
        "strides",
        "dilations",
        "padding",
        "pool_type",
        "hidden",
        "dropout",
        "batch_norm",
        "rc_equivariant",
        "head",
        "residual",
        "dense_batch_norm",
    ),
    "dnn": ("features", "k", "hidden", "dropout", "batch_norm"),
    "rnn": _RECURRENT,
    "lstm": _RECURRENT,
    "gru": _RECURRENT,
    "danq": (
        "filters",
        "kernel",
        "pool",
        "lstm_hidden",
        "lstm_layers",
        "conv_dropout",
        "dropout",
        "hidden",
        "rc_equivariant",
        "batch_norm",
    ),
    "transformer": (
        "k",
        "overlapping",
        "width",
        "depth",
        "heads",
        "ff_mult",
        "dropout",
        "positions",
        "stem",
        "stem_kernel",
        "stem_pool",
    ),
    "bert": ("encoder", "from_scratch", "trust_remote_code", "revision"),
}


def check_hyperparameters(name: str, entry: dict, engine_keys) -> None:
    """Refuse a key of models entry ``name`` that is neither an engine key nor a hyperparameter of its
    architecture (of each, when ``arch`` lists several)."""
    arches = entry["arch"] if isinstance(entry["arch"], list) else [entry["arch"]]
    for arch in arches:
        known = HYPERPARAMETERS.get(arch, ())
        for key in entry:
            if key not in engine_keys and key not in known:
                raise GenomedlError(
                    f"config key models.{name}: {key!r} is not a hyperparameter of arch {arch} (its "
                    f"hyperparameters: {', '.join(sorted(known))}; engine keys: see config/README.md); "
                    "remove or correct it"
                )
