"""Hyperparameter search (``models.<name>.search``): Optuna's TPE sampler asks, ordinary train jobs answer.

Trials come in batches of ``parallel``: the parameters of every trial of a batch are asked, in trial order,
of a sampler seeded with ``seed`` that has been told the results of every earlier batch (and nothing else).
So the trials of a batch train at the same time (Snakemake jobs, spread over SLURM), and the parameters of
trial ``t`` depend only on the seed, the batch size and the validation AUROC of the earlier batches: a rerun
with the same seed and budget asks the same parameters in the same order, however the jobs interleave.

Stages: :func:`run_search_suggest` (parameters of one trial), :func:`run_search_trial` (train one trial,
validation AUROC at the kept epoch), :func:`run_search_pick` (every trial into an Optuna journal file, the best
on validation becomes the model). The config checks are :func:`genomedl.config.search.check_search`.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd

from genomedl.atomic import atomic_path
from genomedl.config import stage_settings
from genomedl.data.files import DatasetFiles
from genomedl.errors import GenomedlError
from genomedl.tables import read_json, read_tsv, write_json, write_tsv

MODEL_FILES = ("model.ckpt", "history.tsv", "run.json")


def distributions(space: dict) -> dict:
    """Optuna distributions of ``search.params``, by name (the sampler draws in this order, so the order of
    the config's keys does not matter): choices are categorical; a range of two integers (and an integer step,
    if any) is an integer range, else a float range."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out = {}
    for key, spec in sorted(space.items()):
        if "choices" in spec:
            out[key] = CategoricalDistribution(spec["choices"])
        elif all(isinstance(spec.get(k, 1), int) for k in ("low", "high", "step")):
            out[key] = IntDistribution(spec["low"], spec["high"], log=spec["log"], step=spec.get("step") or 1)
        else:
            out[key] = FloatDistribution(spec["low"], spec["high"], log=spec["log"], step=spec.get("step"))
    return out


def search_of(settings: dict, name: str, seed: int) -> dict:
    """The search block of model ``name`` with the schema's defaults; a null seed becomes ``seed``."""
    search = stage_settings("model", settings, f"models.{name}")["search"]
    return {**search, "seed": search["seed"] if search["seed"] is not None else seed}


def _study(search: dict, records: list[dict], storage=None):
    """A maximising study with the seeded TPE sampler, told ``records`` (value.json contents) in trial order."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=search["seed"], n_startup_trials=search["startup"])
    study = optuna.create_study(direction="maximize", sampler=sampler, storage=storage)
    space = distributions(search["params"])
    for record in sorted(records, key=lambda r: r["trial"]):
        complete = record["state"] == "COMPLETE"
        study.add_trial(
            optuna.trial.create_trial(
                params=record["params"],
                distributions=space,
                value=record["value"] if complete else None,
                state=optuna.trial.TrialState.COMPLETE if complete else optuna.trial.TrialState.FAIL,
                user_attrs={"trial": record["trial"], "message": record.get("message", "")},
            )
        )
    return study, space


def run_search_suggest(trials: list[Path], out: Path, name: str, trial: int, settings: dict, seed: int, log=print):
    """Write ``{"trial", "params"}`` of trial ``trial`` to ``out``; ``trials``: value.json of every trial of the
    earlier batches. ``settings``: the models entry (its ``search`` block); ``seed``: the config's."""
    search = search_of(settings, name, seed)
    first = trial - trial % search["parallel"]
    if not 0 <= trial < search["budget"] or len(trials) != first:
        raise GenomedlError(
            f"model {name}: trial {trial} needs the results of trials 0...{first - 1} (got {len(trials)}) within "
            f"the budget of {search['budget']}; run it through the workflow"
        )
    study, space = _study(search, [read_json(p) for p in trials])
    for _ in range(trial - first + 1):  # the batch's earlier trials first, as a sequential run asks them
        asked = study.ask(space)
    write_json({"trial": trial, "params": asked.params}, out)
    log(f"search: {name} trial {trial}: {asked.params}")


def validation_auroc(model_dir: Path) -> float:
    """Validation AUROC at the epoch the train stage kept (history.tsv row ``best_epoch`` of run.json)."""
    run = read_json(model_dir / "run.json")
    history = read_tsv(model_dir / "history.tsv")
    return float(history.loc[history["epoch"] == run["best_epoch"], "val_auroc"].iloc[0])


def run_search_trial(
    params: Path, dataset: DatasetFiles, out_dir: Path, value: Path, name: str, settings: dict, seed: int, log=print
) -> dict:
    """Train model ``name`` with the trial's parameters on ``dataset`` into ``out_dir``
    (:func:`genomedl.training.run.train_model`; arch bert with its encoder) and write ``value`` (JSON: trial,
    state, value = validation AUROC, params, settings).

    A trial the train stage stops (a non-finite loss, out of memory) is recorded as state FAIL, not raised.
    """
    from genomedl.training.run import finetune_settings, train_model

    asked = read_json(params)
    trained = {k: v for k, v in settings.items() if k != "search"} | asked["params"]
    record = {"trial": asked["trial"], "params": asked["params"], "settings": trained}
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        if trained["arch"] == "bert":
            trained = finetune_settings(name, trained, None)
        train_model(dataset, out_dir, name, trained, seed, log)
        score = validation_auroc(out_dir)
        failed = "validation AUROC is undefined (one class in val)" if math.isnan(score) else None
    except GenomedlError as exc:
        score, failed = None, str(exc)
    record |= {"state": "FAIL", "value": None, "message": failed} if failed else {"state": "COMPLETE", "value": score}
    write_json(record, value)
    log(f"search: {name} trial {asked['trial']} {record['state']} val AUROC {score} ({failed or 'ok'})")
    return record


def run_search_pick(
    trials: list[Path], out_dir: Path, model_dir: Path, name: str, settings: dict, seed: int, log=print
) -> dict:
    """Record every trial (value.json files, one per trial) in ``out_dir``: study.journal (an Optuna
    JournalStorage file), trials.tsv (trial, state, value, one column per parameter), best.json and
    settings.json (the models entry the best trial trained with); copy the best trial's model into
    ``model_dir`` (model.ckpt, history.tsv, run.json with a ``search`` record). Best: the highest validation
    AUROC, the earlier trial on a tie."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    search = search_of(settings, name, seed)
    folders = {}  # trial -> its folder
    for path in trials:
        record = read_json(path)
        folders[record["trial"]] = (record, path.parent)
    records = [folders[t][0] for t in sorted(folders)]
    if [r["trial"] for r in records] != list(range(search["budget"])):
        raise GenomedlError(f"model {name}: {len(records)} trial results for a budget of {search['budget']}")
    done = [r for r in records if r["state"] == "COMPLETE"]
    if not done:
        raise GenomedlError(
            f"model {name}: all {len(records)} trials failed (trial 0: {records[0]['message']}); "
            f"narrow models.{name}.search.params"
        )
    best = max(done, key=lambda r: (r["value"], -r["trial"]))
    with atomic_path(out_dir / "study.journal") as journal:
        journal.unlink()
        _study(search, records, JournalStorage(JournalFileBackend(str(journal))))
    keys = sorted(search["params"])
    table = pd.DataFrame(
        [{"trial": r["trial"], "state": r["state"], "value": r["value"], **r["params"]} for r in records],
        columns=["trial", "state", "value", *keys],
    )
    write_tsv(table, out_dir / "trials.tsv")
    chosen = {
        "model": name,
        "metric": "val_auroc",
        "best_trial": best["trial"],
        "value": best["value"],
        "params": best["params"],
        "seed": search["seed"],
        "budget": search["budget"],
    }
    write_json(chosen, out_dir / "best.json")
    write_json(best["settings"], out_dir / "settings.json")
    source = folders[best["trial"]][1] / "model"
    for file in MODEL_FILES[:2]:
        with atomic_path(model_dir / file) as tmp:
            shutil.copyfile(source / file, tmp)
    run = read_json(source / "run.json") | {"search": {k: v for k, v in chosen.items() if k != "model"}}
    write_json(run, model_dir / "run.json")
    log(f"search: {name} best trial {best['trial']} of {len(records)}: val AUROC {best['value']:.4f} {best['params']}")
    return chosen
