"""GAN stage: a WGAN-GP on the train-split windows of one class; generated sequences as FASTA and their
quality against held-out real windows of the class (val + test), with shuffled real windows as the
floor and train-split real windows as the ceiling. With ``augment`` the scoring classifier is trained
again with the generated windows added to the train split (:mod:`.augment`), and the class's test
recall compared.

Outputs in ``out_dir``: ``generated.fa``, ``history.tsv`` (per epoch), ``generator.pt`` (weights)
and ``quality.json``.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from genomedl.atomic import atomic_torch_save, atomic_write
from genomedl.config import stage_settings
from genomedl.data.files import DatasetFiles
from genomedl.errors import GenomedlError
from genomedl.sequence import ALPHABET
from genomedl.tables import write_json, write_tsv

LETTERS = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)


def write_fasta(tokens: np.ndarray, path: Path, prefix: str) -> None:
    """uint8 windows ``[N, L]`` -> FASTA ``>{prefix}_{i}`` one line per sequence (atomic)."""
    rows = LETTERS[tokens]
    names = np.char.add(f">{prefix}_", np.arange(len(tokens)).astype(str)).astype(object)
    lines = np.empty(2 * len(tokens), dtype=object)
    lines[0::2], lines[1::2] = names, rows.view(f"S{tokens.shape[1]}").ravel().astype(str)
    with atomic_write(path) as handle:
        handle.write("\n".join(lines) + "\n")


def run_gan(
    dataset: DatasetFiles,
    label: str,
    out_dir: Path,
    settings: dict,
    seed: int,
    classifier: Path | None = None,
    log=print,
) -> dict:
    """Train the GAN on class ``label``'s train windows; write FASTA, history, weights and quality in ``out_dir``.

    ``settings``: schema section ``gan``; ``classifier``: a model.ckpt that scores the generated windows."""
    import lightning as L

    from genomedl.data.datasets import SplitData, load_dataset
    from genomedl.data.loaders import loader
    from genomedl.generation.metrics import quality, shuffled
    from genomedl.inference import load_model, predict_proba
    from genomedl.models.gan import WGANGP

    settings = stage_settings("gan", settings)
    L.seed_everything(seed, workers=True, verbose=False)
    data = load_dataset(dataset)
    if label not in data.classes:
        classes = ", ".join(data.classes)
        raise GenomedlError(f"config key gan.classes: {label!r} is not a class of {dataset.meta} ({classes})")
    index = data.classes.index(label)
    pick = lambda part: part.tokens[part.labels == index]  # noqa: E731
    train = pick(data.parts["train"])
    heldout = np.concatenate([pick(data.parts["val"]), pick(data.parts["test"])])
    if len(train) < 2 or len(heldout) < 1:
        raise GenomedlError(
            f"{dataset.split}: class {label!r} has {len(train)} train and {len(heldout)} val/test windows; "
            "the GAN needs both"
        )
    hyper = {k: settings[k] for k in ("latent", "channels", "lr", "n_critic", "gp_weight")}
    module = WGANGP(data.length, **hyper)
    rows = []

    class History(L.Callback):
        def on_train_epoch_start(self, trainer, pl_module):
            self.t0 = time.time()

        def on_train_epoch_end(self, trainer, pl_module):
            rows.append(
                {
                    "epoch": trainer.current_epoch + 1,
                    **pl_module.epoch_means(),
                    "seconds": round(time.time() - self.t0, 3),
                }
            )

    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    trainer = L.Trainer(
        max_epochs=int(settings["epochs"]),
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=os.isatty(2),
        enable_model_summary=False,
        callbacks=[History()],
        accelerator="auto",
        devices=1,
        default_root_dir=out_dir,
    )
    part = SplitData(train, np.zeros(len(train), np.int64), [])
    batch = min(int(settings["batch_size"]), len(train))
    log(f"gan: class {label}: {len(train)} train windows, {len(heldout)} held out, {settings['epochs']} epochs")
    t0 = time.time()
    trainer.fit(module, loader(part, batch, shuffle_seed=seed))
    write_tsv(pd.DataFrame(rows), out_dir / "history.tsv")
    generated = module.sample(int(settings["n_generate"])).numpy()
    write_fasta(generated, out_dir / "generated.fa", f"gan_{label}")
    atomic_torch_save(
        {"hyper": hyper, "length": data.length, "state_dict": module.generator.state_dict()}, out_dir / "generator.pt"
    )
    score = None
    if classifier is not None:
        model, payload = load_model(classifier)
        column = payload["classes"].index(label)
        score = lambda x: predict_proba(model, x)[:, column]  # noqa: E731
    m = min(len(generated), len(train))
    rng = np.random.default_rng(seed)
    sets = {
        "generated": generated[:m],
        "shuffled_real": shuffled(train, seed)[rng.permutation(len(train))[:m]],
        "train_real": train[rng.permutation(len(train))[:m]],
    }
    result = {
        "class": label,
        "length": data.length,
        "settings": settings,
        "seed": seed,
        "classifier": str(classifier) if classifier else None,
        "train_windows": int(len(train)),
        "heldout_windows": int(len(heldout)),
        "train_seconds": round(time.time() - t0, 2),
        "sets": quality(sets, heldout, score),
    }
    if settings["augment"] and classifier is not None:
        from genomedl.generation.augment import augmentation_effect

        result["augmentation"] = augmentation_effect(classifier, data, label, generated, seed)
    write_json(result, out_dir / "quality.json")
    gen, floor = result["sets"]["generated"], result["sets"]["shuffled_real"]
    log(
        f"gan: {label} k6 JSD generated {gen['kmer_jsd']['k6']:.4f} vs shuffled {floor['kmer_jsd']['k6']:.4f}; "
        f"GC W1 {gen['gc_wasserstein']:.4f} vs {floor['gc_wasserstein']:.4f}"
    )
    return result
