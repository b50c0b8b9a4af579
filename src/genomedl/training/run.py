"""Training a model from a dataset's files: the one entry of the training package, which the train, finetune and
search stages and the GAN's augmentation check call. It reads as its steps: settings, data, the attempts (a
collapse restarts from a fresh initialisation), the saved model and its run record."""

from __future__ import annotations

from pathlib import Path

from lightning.pytorch.utilities import rank_zero_only

from genomedl.config import stage_settings
from genomedl.data.datasets import load_dataset
from genomedl.data.files import DatasetFiles
from genomedl.errors import GenomedlError
from genomedl.inference import load_model, predict_proba
from genomedl.provenance import config_hash, utc_now
from genomedl.stats.calibration import temperature_record
from genomedl.tables import read_json, write_json
from genomedl.training.callbacks import Collapsed
from genomedl.training.checkpoints import clear_checkpoints
from genomedl.training.fit import Fit, fit
from genomedl.training.record import run_record, save_best, write_run
from genomedl.training.restarts import collapse_message, earlier_restarts, restart_settings, restarts_path


def train_model(files: DatasetFiles, out_dir: Path, name: str, settings: dict, seed: int, log=print) -> dict:
    """Train ``settings['arch']`` (schema section ``model``, entry ``models.<name>``) on ``files`` into ``out_dir``
    (model.ckpt, history.tsv, run.json); returns run.json's contents ({} on DDP ranks other than zero)."""
    settings, resolved_from = trained_settings(settings, files.qc, name, log)
    started = utc_now()
    data = load_dataset(files)
    if len(data.parts["train"].labels) == 0 or len(data.parts["val"].labels) == 0:
        raise GenomedlError(f"{files.split}: the train or val split is empty; adjust split fractions")
    fitted, restarts = fit_with_restarts(data, out_dir, name, settings, seed, files.dataset, log)
    if fitted is None:
        return {}
    best = save_best(fitted, out_dir / "model.ckpt", data.classes)
    extra = {
        "calibration": calibration(out_dir / "model.ckpt", data.parts["val"], settings["rc_augment"], fitted.plan),
        "started_at": started,
        "restarts": restarts,
        "strands_from": resolved_from["strands"],
        "head_from": resolved_from["head"],
        "trained_seed": restart_settings(settings, seed, len(restarts))[1],
    }
    run = run_record(fitted, data, name, settings, seed, int(best["epoch"]) + 1, extra)
    write_run(run, out_dir)
    clear_checkpoints(out_dir / "checkpoints")  # finished: a rerun (new code, say) trains afresh
    verdict = run["fit_verdict"]["verdict"]
    log(f"train: {name} best epoch {run['best_epoch']} {settings['monitor']} {run['best_score']:.4f}; fit: {verdict}")
    return run


def calibration(checkpoint: Path, val, both_strands: bool, plan) -> dict:
    """The saved model's temperature, fitted on the validation windows as evaluation will score them (both strands
    averaged where it learned both): run.json ``calibration`` (:func:`~genomedl.stats.calibration.temperature_record`).
    """
    model, _ = load_model(checkpoint)
    device = "cuda" if plan.on_gpu else "cpu"
    probs = predict_proba(model, val.tokens, batch_size=512, device=device, both_strands=both_strands)
    return temperature_record(val.labels, probs)


def trained_settings(settings: dict, qc: Path | None, name: str, log) -> tuple[dict, dict]:
    """The models entry with the schema's defaults, ``rc_augment`` (:func:`strand_setting`) and the cnn's ``head``
    (:func:`head_setting`) resolved, and why: {"strands": ..., "head": ...} (None for other architectures)."""
    settings = stage_settings("model", settings, f"models.{name}")
    rc_augment, strands_from = strand_setting(settings, qc, name)
    log(f"train: {name} learns {'both strands' if rc_augment else 'the forward strand'} ({strands_from})")
    settings = {**settings, "rc_augment": rc_augment}  # as trained: evaluation scores those strands
    if settings["arch"] != "cnn":
        return settings, {"strands": strands_from, "head": None}
    head, head_from = head_setting(settings, qc, name)
    log(f"train: {name} head {head} ({head_from})")
    return {**settings, "head": head}, {"strands": strands_from, "head": head_from}


def strand_setting(settings: dict, qc: Path | None, name: str) -> tuple[bool, str]:
    """``rc_augment`` as trained and why: as set, or for ``auto`` the quality gate's strand verdict (qc.json
    ``strands``, :func:`genomedl.probes.gate.strands`); without one, the forward strand."""
    if settings["rc_augment"] != "auto":
        return bool(settings["rc_augment"]), f"models.{name}.rc_augment: {str(settings['rc_augment']).lower()}"
    found = read_json(qc).get("strands") if qc is not None and Path(qc).exists() else None
    if found is None:
        return False, "rc_augment auto without a strand verdict of the quality gate (qc.json): the forward strand"
    return bool(found["rc_augment"]), f"rc_augment auto, from the quality gate: {found['reason']}"


def head_setting(settings: dict, qc: Path | None, name: str) -> tuple[str, str]:
    """The cnn's ``head`` and why: as set, or for ``auto`` (or unset) the quality gate's layout verdict (qc.json
    ``layout``, :func:`genomedl.probes.gate.layout`); without one, "mixed"."""
    head = settings.get("head", "auto")
    if head != "auto":
        return head, f"models.{name}.head: {head}"
    found = read_json(qc).get("layout") if qc is not None and Path(qc).exists() else None
    if found is None:
        return "mixed", "head auto without a layout verdict of the quality gate (qc.json): mixed"
    return found["head"], f"head auto, from the quality gate: {found['reason']}"


def fit_with_restarts(
    data, out_dir: Path, name: str, settings: dict, seed: int, dataset: str, log
) -> tuple[Fit | None, list[dict]]:
    """Attempts until one does not collapse (:mod:`genomedl.training.restarts`): (its fit, the collapsed
    attempts before it). A run killed between attempts resumes at its attempt; after ``restarts`` restarts the
    job stops with one line naming the model, the dataset and every learning rate tried."""
    ckpt_dir = out_dir / "checkpoints"
    stamp = {"config_hash": config_hash({**settings, "seed": seed})}
    restarts = earlier_restarts(ckpt_dir, stamp)
    while True:
        tried, tried_seed = restart_settings(settings, seed, len(restarts))
        try:
            return fit(data, out_dir, name, tried, tried_seed, log), restarts
        except Collapsed as exc:
            restarts.append({"attempt": len(restarts) + 1, "lr": tried["lr"], "seed": tried_seed, "reason": exc.reason})
        if len(restarts) > settings["restarts"]:
            clear_checkpoints(ckpt_dir)  # a rerun starts again from the first attempt
            raise GenomedlError(collapse_message(name, dataset, restarts))
        next_lr = restart_settings(settings, seed, len(restarts))[0]["lr"]
        log(
            f"warning: model {name} of dataset {dataset} collapsed: {restarts[-1]['reason']}; restart "
            f"{len(restarts)} of {settings['restarts']} from a fresh initialisation at lr {next_lr:.3g}"
        )
        if rank_zero_only.rank == 0:
            write_json({"stamp": stamp, "restarts": restarts}, restarts_path(ckpt_dir))


def finetune_settings(name: str, settings: dict, encoder: str | None) -> dict:
    """A bert models entry with its encoder (``encoder`` overrides ``settings["encoder"]``; the workflow passes the
    pretrain stage's folder for ``encoder: pretrain``); one line when it names none."""
    encoder = str(encoder or settings.get("encoder") or "")
    if settings.get("arch") != "bert":
        raise GenomedlError(f"config key models.{name}.arch: finetune trains arch bert, not {settings.get('arch')!r}")
    if not encoder or encoder == "pretrain":
        raise GenomedlError(
            f"config key models.{name}.encoder: give a Hugging Face model id, a local folder, or "
            "'pretrain' (run through the workflow, which passes the pretrain stage's encoder)"
        )
    return {**settings, "encoder": encoder}
