"""Config validation: defaults filled, names kept inside results/ (bad config keys: test_bad_inputs.py)."""

from __future__ import annotations

import copy

import pytest
import yaml

from genomedl.config import resolve, validate_config
from genomedl.errors import GenomedlError


@pytest.fixture
def config(repo_root):
    with open(repo_root / "config" / "config.yaml") as handle:
        return yaml.safe_load(handle)


@pytest.fixture
def schema(repo_root):
    return repo_root / "workflow" / "schemas" / "config.schema.yaml"


def check(config, schema):
    try:
        validate_config(config, schema)
    except GenomedlError as exc:
        message = str(exc)
        assert "\n" not in message
        return message
    return None


@pytest.mark.parametrize("name", ["config", "demo", "arabidopsis", "modern", "reference_gff", "ncbi_example"])
def test_every_shipped_config_validates_and_resolves(repo_root, schema, name):
    """The configs users are told to run: valid, and planned without a config error; the A. thaliana configs take
    their reference from the demo_data rule, indexed, so their extraction is scattered by sequence group."""
    with open(repo_root / "config" / f"{name}.yaml") as handle:
        plan = resolve(validate_config(yaml.safe_load(handle), schema))
    assert plan.datasets and plan.model_names
    if name in ("demo", "arabidopsis"):
        assert plan.scattered == plan.datasets
        assert "kmer_logreg" in plan.baselines and "cnn" in plan.neural
    if name == "arabidopsis":
        assert plan.transfer_targets == {"thaliana_splice_site": {"arenosa_splice_site": "all"}}


@pytest.mark.parametrize("name", ["config", "demo", "arabidopsis", "modern", "ncbi_example"])
def test_check_config_accepts_the_shipped_configs(repo_root, monkeypatch, capsys, name):
    """``genomedl check-config`` (for a --configfile, which Snakemake reads itself): the configs users are told to run
    pass, their demo files counted as written by the demo_data rule."""
    from genomedl.cli import main

    monkeypatch.chdir(repo_root)
    assert main(["check-config", f"config/{name}.yaml"]) == 0
    assert "every input file it names exists" in capsys.readouterr().out


def test_shipped_config_is_valid_and_defaults_are_filled(config, schema):
    del config["datasets"]["demo"]["split"]
    validate_config(config, schema)
    split = config["datasets"]["demo"]["split"]
    assert (split["val"], split["test"], split["group_by"]) == (0.15, 0.15, "locus")
    assert config["ncbi"]["offline"] is False


@pytest.mark.parametrize("name", ["../escape", "a/b", "x y"])
def test_names_cannot_escape_results(config, schema, name):
    config["datasets"][name] = copy.deepcopy(config["datasets"]["demo"])
    assert "may use only letters, digits" in check(config, schema)


def test_lstm_gru_and_transformer_get_their_own_learning_rate(config, schema):
    """x-arch-defaults: lstm and gru default to lr 0.005, the transformer to 0.003, the others to the generic 0.001;
    a given lr wins; a sweep
    over arch gives each member its architecture's default (validation leaves it out while arch is a list)."""
    from genomedl.config.sweep import expand_sweeps

    config["models"] = {
        "lstm": {"arch": "lstm"},
        "rnn": {"arch": "rnn"},
        "set": {"arch": "gru", "lr": 0.01},
        "swept": {"arch": ["cnn", "gru"]},
        "transformer": {"arch": "transformer"},
    }
    validate_config(config, schema)
    models = config["models"]
    assert (models["lstm"]["lr"], models["rnn"]["lr"], models["set"]["lr"]) == (0.005, 0.001, 0.01)
    assert models["transformer"]["lr"] == 0.003
    assert "lr" not in models["swept"]
    members = expand_sweeps(models)
    assert (members["swept__arch-cnn"]["lr"], members["swept__arch-gru"]["lr"]) == (0.001, 0.005)
    assert members["swept__arch-gru"]["epochs"] == models["rnn"]["epochs"]  # the other defaults are there too
