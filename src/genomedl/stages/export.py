"""Export stage: every trained model in a portable form, usable without genomedl.

Writes into ``out_dir``: ``model.pt`` (TorchScript: uint8 tokens ``[N, L]`` -> probabilities ``[N, C]``,
both strands averaged inside), ``model.safetensors`` (weights), ``config.json`` (arch, hyperparameters,
classes and, for BERT, the encoder's configuration: what :func:`rebuild` needs), then ``model_card.json``
and ``model_card.md``. Before anything is written the program is run on windows of the dataset and must
reproduce genomedl's own predictions (the evaluate stage's code path).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from genomedl.atomic import atomic_write
from genomedl.errors import GenomedlError
from genomedl.packaging.card import card_markdown, file_entry, model_card
from genomedl.provenance import versions
from genomedl.tables import read_json, read_tsv, write_json

FORMAT = "genomedl-export/1"
TOLERANCE = 1e-5  # max |probability difference| allowed between the program and genomedl (fp32, CPU)
CHECK_WINDOWS = 256


def features_of(model) -> dict:
    """What a registry model reads: token ids (k-mers, inside the model), k-mer frequencies or one-hot."""
    own = getattr(model, "own", None) or {}
    k = own.get("k", getattr(model, "k", None))
    overlapping = own.get("overlapping", getattr(model, "overlapping", None))
    if isinstance(k, int) and overlapping is not None:
        return {"kind": "token ids", "k": k, "overlapping": bool(overlapping)}
    if getattr(model, "features", None) == "kmer":
        return {"kind": "k-mer frequencies", "ks": list(model.ks)}
    return {"kind": "one-hot"}


def _neural(model_dir: Path, name: str):
    """(model, config) of a model.ckpt; a BERT model's config embeds its encoder's configuration and tokenizer
    settings (not its weights: they are in model.safetensors)."""
    from genomedl.encoding.tokenizer import SETTINGS_FILE, load_settings
    from genomedl.inference import load_model
    from genomedl.scoring import trained_strands

    model, payload = load_model(model_dir / "model.ckpt")
    hyper = dict(payload["hyper"])
    config = {
        "format": FORMAT,
        "kind": "neural",
        "arch": payload["arch"],
        "length": payload["length"],
        "classes": payload["classes"],
        "hyper": hyper,
        "features": features_of(model),
        "strand_average": trained_strands(model_dir) == "both",  # as evaluated
    }
    if payload["arch"] == "bert":
        encoder = Path(hyper.pop("encoder"))
        if load_settings(encoder) is None:
            raise GenomedlError(
                f"models.{name}.encoder: {encoder} brings its own text tokenizer, which a TorchScript "
                "program cannot carry; only BERT models on genomedl's tokenizer (encoder: pretrain "
                "or a folder with genomedl_tokenizer.json) are exported"
            )
        hyper["from_scratch"] = True  # the weights come from model.safetensors
        config["encoder"] = {"config.json": read_json(encoder / "config.json"), SETTINGS_FILE: load_settings(encoder)}
    return model, config


def _baseline(model_dir: Path):
    """(LogisticBaseline, config) of a baseline's model.npz."""
    from genomedl.models.baselines import saved_features
    from genomedl.models.portable import LogisticBaseline

    with np.load(model_dir / "model.npz") as saved:
        params = {k: saved[k] for k in saved.files}
    run, kind = read_json(model_dir / "run.json"), saved_features(params)
    config = {
        "format": FORMAT,
        "kind": f"{kind}_logreg",
        "arch": run["arch"],
        "length": run["length"],
        "classes": [str(c) for c in params["classes"]],
        "hyper": {"ks": params["ks"].tolist(), "features": kind},
        "features": {"kind": "one-hot"}
        if kind == "onehot"
        else {"kind": "k-mer frequencies", "ks": params["ks"].tolist()},
        "strand_average": False,
    }
    return LogisticBaseline(params, kind), config


def check_windows(tokens_path: Path, n: int = CHECK_WINDOWS) -> np.ndarray:
    """Up to ``n`` windows ``[n, L]`` spread evenly over the dataset's tokens.npy."""
    tokens = np.load(tokens_path, mmap_mode="r")
    rows = np.unique(np.linspace(0, len(tokens) - 1, min(n, len(tokens))).astype(int))
    return np.ascontiguousarray(tokens[rows])


def run_export(
    model_dir: Path,
    eval_dir: Path,
    tokens: Path,
    manifest: Path,
    extract_summary: Path,
    split_summary: Path,
    out_dir: Path,
    dataset: str,
    dataset_settings: dict | None = None,
    log=print,
) -> dict:
    """Export the model in ``model_dir``; returns its card. Raises GenomedlError if the program's
    predictions differ from genomedl's by more than :data:`TOLERANCE`."""
    import torch
    from safetensors.torch import save as safetensors_bytes

    from genomedl.models.portable import script_program, weights_of
    from genomedl.scoring import model_proba, temperature_of

    run = read_json(model_dir / "run.json")
    name = run["model"]
    if (model_dir / "model.ckpt").exists():
        net, config = _neural(model_dir, name)
    else:
        net, config = _baseline(model_dir)
    weights = weights_of(net)
    config["temperature"] = temperature_of(run)  # fitted on the validation split; the program applies it
    program = script_program(net, config["classes"], config["length"], config["strand_average"], config["temperature"])
    windows = check_windows(tokens)
    with torch.no_grad():
        ours = program(torch.from_numpy(windows)).double().numpy()
    diff = float(np.abs(ours - model_proba(model_dir, windows)).max())
    if not diff <= TOLERANCE:
        raise GenomedlError(
            f"model {name}: the exported program's probabilities differ from genomedl's by {diff:.2g} "
            f"(allowed {TOLERANCE}); the model cannot be exported faithfully, please report it"
        )
    out_dir = Path(out_dir)
    with atomic_write(out_dir / "model.pt", "wb") as handle:
        torch.jit.save(program, handle)
    metadata = {"format": FORMAT, "arch": config["arch"], "classes": json.dumps(config["classes"])}
    with atomic_write(out_dir / "model.safetensors", "wb") as handle:
        handle.write(safetensors_bytes(weights, metadata=metadata))
    write_json({**config, "genomedl_version": versions().get("genomedl", "")}, out_dir / "config.json")
    written = [out_dir / "model.pt", out_dir / "model.safetensors", out_dir / "config.json"]
    card = model_card(
        name=name,
        dataset=dataset,
        config=config,
        run=run,
        metrics=read_json(eval_dir / "metrics.json"),
        manifest=read_tsv(manifest).to_dict("records"),
        extraction=read_json(extract_summary),
        split=read_json(split_summary),
        dataset_settings=dataset_settings or {},
        files={p.name: file_entry(p) for p in written},
        verification={"windows": int(len(windows)), "max_abs_diff": diff, "tolerance": TOLERANCE},
    )
    write_json(card, out_dir / "model_card.json")
    with atomic_write(out_dir / "model_card.md", encoding="utf-8") as handle:
        handle.write(card_markdown(card))
    log(f"export: {name} -> {out_dir} (TorchScript + safetensors; max |Δp| {diff:.1e} on {len(windows)} windows)")
    return card


def rebuild(folder: Path):
    """Rebuild an export with genomedl: (model, config) for a neural model (eval mode, CPU), or
    (params, config) for a baseline, where params work with :func:`genomedl.models.baselines.baseline_proba`."""
    from safetensors.numpy import load_file as load_numpy

    from genomedl.stats.compare import BASELINE_ARCHS

    folder = Path(folder)
    config = read_json(folder / "config.json")
    if config["kind"] in BASELINE_ARCHS:
        params = load_numpy(str(folder / "model.safetensors"))
        hyper = config["hyper"]
        extra = {"ks": np.array(hyper["ks"]), "features": np.array(hyper.get("features", "kmer"))}
        return {**params, **extra, "n_classes": np.array(len(config["classes"]))}, config
    from safetensors.torch import load_file

    from genomedl.models import build_model

    with tempfile.TemporaryDirectory() as encoder:
        hyper = dict(config["hyper"])
        if "encoder" in config:  # BERT: the encoder's files, for the architecture only
            for name, content in config["encoder"].items():
                (Path(encoder) / name).write_text(json.dumps(content))
            hyper["encoder"] = encoder
        model = build_model(config["arch"], length=config["length"], n_classes=len(config["classes"]), **hyper)
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    return model.eval(), config
