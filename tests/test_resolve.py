"""genomedl.config.resolve: the workflow's lists from a validated config, and its one-line config errors."""

from __future__ import annotations

import pytest

from genomedl.config import resolve, stage_settings, validate_config
from genomedl.errors import GenomedlError


def small_config(**sections) -> dict:
    """One GenBank dataset, a CNN and a k-mer baseline, with ``sections`` replacing top-level keys."""
    config = {
        "datasets": {"demo": {"source": {"local": ["demo.gb"]}, "task": "exon_intron"}},
        "models": {"cnn": {"arch": "cnn"}},
        "baselines": {"kmer": {}},
    }
    return validate_config(config | sections)


def with_predict(config: dict, predict: dict, dataset: str = "demo") -> dict:
    config["datasets"][dataset]["predict"] = predict
    return validate_config(config)


def test_sweeps_expand_into_models_and_predict_models_name_the_whole_sweep():
    config = small_config(models={"cnn": {"arch": "cnn", "lr": [0.01, 0.001]}, "rnn": {"arch": "rnn"}})
    config = with_predict(config, {"models": ["cnn", "kmer"], "inputs": {"seqs": {"fasta": "new.fa"}}})
    plan = resolve(config)
    swept = ("cnn__lr-0.001", "cnn__lr-0.01")
    assert plan.neural == (*swept, "rnn") and plan.model_names == (*swept, "rnn", "kmer")
    assert plan.models["cnn__lr-0.01"]["lr"] == 0.01 and plan.models["cnn__lr-0.01"]["sweep"]["group"] == "cnn"
    assert plan.sweep_members == {"cnn": swept}
    assert plan.predict_models == {"demo": (*swept, "kmer")}
    assert plan.predict_queries == {"seqs": "fasta"}
    assert plan.predict_targets("demo") == [f"results/demo/predict/{m}/seqs/summary.json" for m in (*swept, "kmer")]
    assert config["models"]["cnn"]["lr"] == [0.01, 0.001]  # the config itself is left as it was


def test_predict_models_default_to_every_neural_model_and_files_follow_the_input_kind():
    config = with_predict(
        small_config(),
        {
            "stride": 50,
            "inputs": {
                "regions": {"bed": "regions.bed", "reference": "records"},
                "variants": {"vcf": "variants.vcf", "reference": "genome.fa"},
            },
        },
    )
    plan = resolve(config)
    assert plan.predict_models == {"demo": ("cnn",)}
    assert plan.region_queries == ["regions"] and plan.variant_queries == ["variants"]
    assert plan.predict_files("demo", "kmer", "regions") == {
        "model": "results/demo/models/kmer/model.npz",
        "run": "results/demo/models/kmer/run.json",
        "data": "regions.bed",
        "reference": "results/demo/reference/records.fa.gz",
        "fai": "results/demo/reference/records.fa.gz.fai",
    }
    assert plan.predict_args("demo", "variants", "variants.vcf", "genome.fa") == (
        "--vcf variants.vcf --reference genome.fa --settings "
        """'{"batch_size": 256, "max_allele": 50, "max_ref_mismatch": 0.05, "strands": "trained", "stride": 50, """
        """"top": 10, "unknown_contigs": "skip"}'"""
    )


def test_two_datasets_share_their_prediction_inputs_of_the_same_kind():
    config = small_config()
    config["datasets"]["other"] = dict(config["datasets"]["demo"])
    config = with_predict(config, {"inputs": {"seqs": {"fasta": "a.fa"}}}, "demo")
    config = with_predict(config, {"inputs": {"seqs": {"fasta": "b.fa"}}}, "other")
    plan = resolve(config)
    assert plan.datasets == ("demo", "other") and plan.predict_queries == {"seqs": "fasta"}


def two_kinds_of_one_name(config: dict) -> dict:
    config["datasets"]["other"] = dict(config["datasets"]["demo"])
    config = with_predict(config, {"inputs": {"q": {"fasta": "a.fa"}}}, "demo")
    return with_predict(config, {"inputs": {"q": {"csv": "b.csv"}}}, "other")


@pytest.mark.parametrize(
    "change, line",
    [
        (
            lambda c: validate_config(c | {"baselines": {"cnn": {}}}),
            "config keys models and baselines both name ['cnn']; rename one",
        ),
        (
            lambda c: with_predict(c, {"models": ["cnn", "nope"], "inputs": {"seqs": {"fasta": "a.fa"}}}),
            "config key datasets.demo.predict.models: 'nope' is not an entry of models or baselines (cnn, kmer)",
        ),
        (
            lambda c: with_predict(c, {"inputs": {"both": {"fasta": "a.fa", "csv": "a.csv"}}}),
            "config key datasets.demo.predict.inputs.both: give exactly one of fasta, csv, bed, vcf",
        ),
        (
            lambda c: with_predict(c, {"inputs": {"none": {}}}),
            "config key datasets.demo.predict.inputs.none: give exactly one of fasta, csv, bed, vcf",
        ),
        (
            two_kinds_of_one_name,
            "config key datasets.other.predict.inputs.q: another dataset has an input of that name of another kind;"
            " rename one",
        ),
    ],
    ids=["models_and_baselines_overlap", "unknown_predict_model", "two_kinds", "no_kind", "name_with_two_kinds"],
)
def test_config_problems_are_one_line(change, line):
    with pytest.raises(GenomedlError) as caught:
        resolve(change(small_config()))
    assert str(caught.value) == line


def test_bert_models_are_exported_only_on_genomedl_tokens(tmp_path):
    folder = tmp_path / "own_encoder"
    folder.mkdir()
    (folder / "genomedl_tokenizer.json").write_text("{}")
    plan = resolve(
        small_config(
            models={
                "cnn": {"arch": "cnn"},
                "bert_own": {"arch": "bert", "encoder": "pretrain"},
                "bert_folder": {"arch": "bert", "encoder": str(folder)},
                "bert_hub": {"arch": "bert", "encoder": "zhihan1996/DNABERT-2-117M"},
            }
        )
    )
    assert plan.bert == ("bert_folder", "bert_hub", "bert_own")
    assert plan.exported == ("bert_folder", "bert_own", "cnn", "kmer")
    assert plan.uses_pretrain and plan.pretrain == stage_settings("pretrain", {})  # the schema's defaults
    assert plan.pretrained_encoder("demo", "bert_own") == {"encoder": "results/demo/pretrain/encoder"}
    assert plan.pretrained_encoder("demo", "bert_hub") == {} and plan.pretrained_encoder("demo", "kmer") == {}
    assert plan.encoder_arg("demo", "bert_own") == "results/demo/pretrain/encoder"
    assert plan.encoder_arg("demo", "bert_hub") == "zhihan1996/DNABERT-2-117M"


def test_published_encoders_need_no_pretraining():
    plan = resolve(small_config(models={"bert_hub": {"arch": "bert", "encoder": "zhihan1996/DNABERT-2-117M"}}))
    assert not plan.uses_pretrain and plan.lm_report_files("demo") == []
    plan = resolve(small_config(pretrain={"clusters": False}))
    assert plan.uses_pretrain and plan.lm_report_files("demo") == ["results/demo/pretrain/history.tsv"]


@pytest.mark.parametrize(
    "interpret, interpreted",
    [({}, ("cnn", "rnn")), ({"models": ["rnn", "kmer"]}, ("rnn",)), ({"enabled": False, "models": ["rnn"]}, ())],
)
def test_interpreted_models(interpret, interpreted):
    plan = resolve(small_config(models={"cnn": {"arch": "cnn"}, "rnn": {"arch": "rnn"}}, interpret=interpret))
    assert plan.interpreted == interpreted


def test_gan_classifier_is_the_first_non_bert_model_unless_named():
    models = {"a_bert": {"arch": "bert", "encoder": "pretrain"}, "cnn": {"arch": "cnn"}, "rnn": {"arch": "rnn"}}
    plan = resolve(small_config(models=models, gan={"classes": ["exon"]}))
    assert plan.gan_classes == ("exon",) and plan.gan_classifier == "cnn"
    assert plan.classifier_input("demo") == {"classifier": "results/demo/models/cnn/model.ckpt"}
    assert plan.lm_report_files("demo")[-1] == "results/demo/gan/exon/quality.json"
    plan = resolve(small_config(models=models, gan={"classes": ["exon"], "classifier": "rnn"}))
    assert plan.gan_classifier == "rnn"
    plan = resolve(small_config(models={"a_bert": models["a_bert"]}, gan={"classes": ["exon"]}))
    assert plan.gan_classifier is None and plan.classifier_input("demo") == {}
    assert resolve(small_config()).gan_classes == ()


def test_extract_reads_records_or_the_sources_own_files():
    config = small_config()
    config["datasets"]["gff"] = {
        "source": {"reference": {"fasta": "g.fa", "annotation": "g.gff3"}},
        "task": "exon_intron",
    }
    config["datasets"]["table"] = {"source": {"labelled": ["seqs.csv"]}, "task": "labelled"}
    plan = resolve(validate_config(config))
    assert plan.extract_inputs == {
        "demo": {"records": "results/demo/raw/records.gb.gz"},
        "gff": {"fasta": "g.fa", "annotation": "g.gff3"},
        "table": {"labelled": ["seqs.csv"]},
    }


def test_run_information_shows_the_expanded_models_and_the_dataset():
    config = small_config(models={"cnn": {"arch": "cnn", "lr": [0.01, 0.001]}})
    shown = resolve(config).run_information["demo"]
    assert sorted(shown) == ["baselines", "dataset", "evaluate", "interpret", "models", "seed"]
    assert sorted(shown["models"]) == ["cnn__lr-0.001", "cnn__lr-0.01"]
    assert shown["dataset"] == config["datasets"]["demo"]


def test_an_unknown_hyperparameter_of_any_swept_architecture_stops_resolve():
    """Each architecture declares its keys: 'hidden_size' is one of lstm's, not of cnn's (arch sweeps over both)."""
    assert resolve(small_config(models={"r": {"arch": "lstm", "hidden_size": 8}})).models["r"]["hidden_size"] == 8
    with pytest.raises(GenomedlError) as caught:
        resolve(small_config(models={"r": {"arch": ["lstm", "cnn"], "hidden_size": 8}}))
    assert str(caught.value).startswith("config key models.r: 'hidden_size' is not a hyperparameter of arch cnn (its ")


def test_val_and_test_leaving_less_than_half_for_training_is_announced():
    config = small_config()
    config["datasets"]["demo"]["split"] = {"val": 0.3, "test": 0.25}
    assert resolve(config).notices == (
        "warning: config key datasets.demo.split: val 0.3 + test 0.25 leave 45% of the windows for training "
        "(less than half)",
    )
    assert resolve(small_config()).notices == ()
