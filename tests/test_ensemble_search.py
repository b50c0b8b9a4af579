"""k-fold ensembles and hyperparameter search through the real workflow, on exon / intron windows of the real
A. thaliana chromosome 1 slice (fixture arabidopsis_2mb): one run with split.strategy kfold (k = 3) and a CNN
searched with a budget of 3 trials, tiny models trained for 2 epochs."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import numpy as np
import optuna
import pytest
import yaml
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from sklearn.metrics import roc_auc_score

from genomedl.config import resolve, validate_config
from genomedl.errors import GenomedlError
from genomedl.tables import read_json, read_tsv
from helpers import copy_workflow, snakemake

K = 3
SPACE = {"lr": {"low": 0.0003, "high": 0.03, "log": True}, "dropout": {"low": 0.0, "high": 0.5}}
CONFIG = {
    "seed": 5,
    "datasets": {
        "cress": {
            "task": "exon_intron",
            "window": {"length": 200, "stride": 1500},
            "split": {"strategy": "kfold", "k": K, "test": 0.2},
        }
    },
    "models": {
        "cnn": {
            "arch": "cnn",
            "epochs": 2,
            "filters": [16],
            "kernels": [9],
            "pools": [4],
            "hidden": [16],
            "search": {"params": SPACE, "budget": 3, "parallel": 2, "startup": 2},
        }
    },
    "baselines": {"kmer_logreg": {"k": [2, 3]}},
    "evaluate": {"bootstrap": 200},
    "interpret": {"enabled": False},
}


def config_with(source: dict) -> dict:
    config = copy.deepcopy(CONFIG)
    config["datasets"]["cress"]["source"] = source
    return config


@pytest.fixture(scope="module")
def kfold_run(arabidopsis_2mb, tmp_path_factory):
    """The workflow up to the ensemble and the search (no report, no export)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("kfold"))
    source = {"reference": {k: str(v) for k, v in arabidopsis_2mb.items()}}
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config_with(source)))
    targets = ["results/cress/evaluation/ensemble.json", "results/cress/search/cnn/best.json"]
    snakemake(workdir, "--profile", "profiles/local", *targets)
    return workdir


@pytest.mark.workflow
def test_kfold_ensemble_is_the_mean_of_the_fold_models_on_one_test_split(kfold_run):
    results = kfold_run / "results" / "cress"
    splits = [read_tsv(results / "split.tsv")] + [read_tsv(results / f"splits/fold{f}/split.tsv") for f in (1, 2)]
    test_ids = splits[0].loc[splits[0]["split"] == "test", "id"].tolist()
    for split in splits[1:]:
        assert split.loc[split["split"] == "test", "id"].tolist() == test_ids  # one outer test split
    vals = [set(s.loc[s["split"] == "val", "id"]) for s in splits]
    assert not (vals[0] & vals[1]) and not (vals[1] & vals[2]) and not (vals[0] & vals[2])  # val rotates

    ensemble = read_json(results / "evaluation" / "ensemble.json")
    assert ensemble["k"] == K and ensemble["n"] == len(test_ids) and ensemble["metric"] == "auroc"
    assert [m["model"] for m in ensemble["models"]] == ["cnn", "kmer_logreg"]
    for row in ensemble["models"]:
        folder = results / "evaluation" / "ensemble" / row["model"]
        assert [f["fold"] for f in row["folds"]] == list(range(K))
        folds = [read_tsv(folder / f"fold{f}.tsv") for f in range(K)]
        mean = read_tsv(folder / "ensemble.tsv")
        columns = [c for c in mean.columns if c.startswith("p_")]
        for fold, table in zip(row["folds"], folds):
            assert table["id"].tolist() == test_ids  # every fold model scored the same test rows
            auroc = roc_auc_score(table["label"] == "intron", table["p_intron"])
            assert fold["auroc"][0] == pytest.approx(auroc, abs=1e-4)
            assert fold["auroc"][1] <= fold["auroc"][0] <= fold["auroc"][2]
        averaged = np.mean([t[columns].to_numpy() for t in folds], axis=0)
        assert np.abs(mean[columns].to_numpy() - averaged).max() < 2e-6
        assert row["ensemble"]["auroc"][0] == pytest.approx(
            roc_auc_score(mean["label"] == "intron", averaged[:, 1]), abs=1e-4
        )
        gain = row["ensemble"]["auroc"][0] - np.mean([f["auroc"][0] for f in row["folds"]])
        assert row["gain"]["auroc"][0] == pytest.approx(gain, abs=1e-5)
        low, high = row["gain"]["auroc"][1:]
        assert low <= high
    # fold models differ (their own val rows, seed + fold): the ensemble is not one model three times
    cnn = [read_tsv(results / "evaluation" / "ensemble" / "cnn" / f"fold{f}.tsv")["p_intron"] for f in range(K)]
    assert not np.allclose(cnn[0], cnn[1])


@pytest.mark.workflow
def test_search_records_every_trial_and_keeps_the_best_on_validation(kfold_run):
    search = kfold_run / "results" / "cress" / "search" / "cnn"
    trials = read_tsv(search / "trials.tsv")
    best = read_json(search / "best.json")
    assert trials["trial"].tolist() == [0, 1, 2] and set(trials["state"]) == {"COMPLETE"}
    assert list(trials.columns) == ["trial", "state", "value", "dropout", "lr"]  # parameters sorted
    for key, spec in SPACE.items():
        assert trials[key].between(spec["low"], spec["high"]).all()
    assert trials["lr"].nunique() == 3
    for t in range(3):  # the value is the validation AUROC at the epoch the train stage kept
        run = read_json(search / f"trial{t}" / "model" / "run.json")
        history = read_tsv(search / f"trial{t}" / "model" / "history.tsv")
        assert trials.loc[t, "value"] == pytest.approx(history.set_index("epoch").loc[run["best_epoch"], "val_auroc"])
        assert run["settings"]["lr"] == pytest.approx(trials.loc[t, "lr"])
    assert best["best_trial"] == int(trials["value"].idxmax()) and best["value"] == pytest.approx(trials["value"].max())
    assert best["params"] == pytest.approx(trials.loc[best["best_trial"], ["dropout", "lr"]].to_dict())
    assert (best["model"], best["metric"], best["budget"], best["seed"]) == ("cnn", "val_auroc", 3, 5)
    model = kfold_run / "results" / "cress" / "models" / "cnn"
    chosen = search / f"trial{best['best_trial']}" / "model"
    assert (model / "model.ckpt").read_bytes() == (chosen / "model.ckpt").read_bytes()
    assert read_json(model / "run.json")["search"]["best_trial"] == best["best_trial"]
    # the fold models of the searched CNN train with the best trial's parameters
    assert read_json(model / "fold1" / "run.json")["settings"]["lr"] == pytest.approx(best["params"]["lr"])
    storage = JournalStorage(JournalFileBackend(str(search / "study.journal")))
    study = optuna.load_study(study_name=None, storage=storage)
    assert [t.params for t in study.trials] == [
        read_json(search / f"trial{t}" / "params.json")["params"] for t in range(3)
    ]
    assert [t.value for t in study.trials] == pytest.approx(trials["value"].tolist())
    assert study.best_trial.number == best["best_trial"]


def suggest(search, trial: int, seed: int, out) -> dict:
    """Parameters of ``trial`` asked again by `genomedl search-suggest`, told the recorded earlier batches."""
    settings = CONFIG["models"]["cnn"] | {"search": {**CONFIG["models"]["cnn"]["search"], "seed": seed}}
    earlier = [str(search / f"trial{t}" / "value.json") for t in range(trial - trial % 2)]
    argv = ["search-suggest", "--out", str(out), "--name", "cnn", "--trial", str(trial), "--trials", *earlier]
    argv += ["--settings", json.dumps(settings), "--seed", "0"]
    subprocess.run([sys.executable, "-m", "genomedl", *argv], check=True, capture_output=True)
    return read_json(out)["params"]


@pytest.mark.workflow
def test_search_asks_the_same_trials_again_for_the_same_seed(kfold_run, tmp_path):
    """Trial 2 is asked by TPE told trials 0 and 1 (parallel 2, startup 2); any order of the jobs gives the same."""
    search = kfold_run / "results" / "cress" / "search" / "cnn"
    recorded = [read_json(search / f"trial{t}" / "params.json")["params"] for t in range(3)]
    again = [suggest(search, t, 5, tmp_path / f"{t}.json") for t in (2, 1, 0)][::-1]
    assert again == recorded
    assert suggest(search, 0, 6, tmp_path / "other.json") != recorded[0]  # the seed decides


@pytest.mark.parametrize(
    "search, message",
    [
        ({"params": {"filterz": {"low": 1, "high": 2}}}, r"search.params.filterz: not a searchable key of arch cnn"),
        ({"params": {"filters": {"choices": [16, 32]}}}, r"search.params.filters: filters takes a list"),
        (
            {"params": {"lr": {"low": 0.0, "high": 0.1, "log": True}}},
            r"search.params.lr: log needs a range with low > 0",
        ),
        ({"params": {"lr": {"low": 0.1}}}, r"search.params.lr: a range needs low < high"),
        ({"params": {"lr": {"low": 0.1, "high": 0.2, "choices": [0.1]}}}, r"give either low and high"),
        ({"params": {"arch": {"choices": ["cnn", "dnn"]}}}, r"search.params.arch: not a searchable key"),
    ],
)
def test_bad_search_blocks_stop_before_any_job(search, message):
    config = config_with({"labelled": ["x.tsv"]})
    config["models"]["cnn"]["search"] = search
    with pytest.raises(GenomedlError, match=message) as error:
        resolve(validate_config(config))
    assert "\n" not in str(error.value)


def test_plan_of_kfold_and_search():
    plan = resolve(validate_config(config_with({"labelled": ["x.tsv"]})))
    assert plan.ensemble_datasets == ("cress",) and plan.folds == {"cress": K} and plan.searched == {"cress": ("cnn",)}
    assert plan.search_trials("cress", "cnn", 2) == [f"results/cress/search/cnn/trial{t}/value.json" for t in (0, 1)]
    assert plan.search_trials("cress", "cnn", 1) == []  # trial 1 is in the first batch, with trial 0
    assert plan.training_settings("cress", "cnn") == "@results/cress/search/cnn/settings.json"
    plain = config_with({"labelled": ["x.tsv"]})
    plain["datasets"]["cress"]["split"] = {"dedupe": "near"}
    assert resolve(validate_config(plain)).ensemble_datasets == ()
    plain["datasets"]["cress"]["split"]["strategy"] = "kfold"
    with pytest.raises(GenomedlError, match="split.dedupe: near moves windows of fold 0 only"):
        resolve(validate_config(plain))
