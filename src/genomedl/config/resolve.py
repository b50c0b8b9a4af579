"""What the workflow builds from a validated config: its datasets, models, sweeps, exports and predictions.

:func:`resolve` also raises the config problems the schema cannot express, each as one
:class:`GenomedlError` line; ``workflow/rules/common.smk`` only calls it. Paths are relative to the
workflow's working directory. Torch-free, so the Snakefile can import it cheaply.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass

from ..choices import PREDICT_KINDS, REGION_KINDS, VARIANT_KINDS
from ..errors import GenomedlError
from ..models.hyperparameters import check_hyperparameters
from .sweep import expand_sweeps
from .validate import load_schema, stage_settings

EXTRACT_KEYS = ("source", "task", "task_options", "window")  # a dataset's keys that the extract stage reads
EXTRACT_SPLIT_KEYS = ("strategy", "dedupe")  # ... and of its split section (duplicates: collapsed or reported)
PREDICT_INPUT_KEYS = ("inputs", "models")  # keys of a predict section that say what to score, not how
RUN_INFORMATION_KEYS = ("seed", "models", "baselines", "evaluate", "interpret")


@dataclass(frozen=True)
class Plan:
    """The workflow's lists, from :func:`resolve`; neural models and baselines are each sorted by name."""

    datasets: tuple[str, ...]
    models: dict[str, dict]  # neural model name -> settings, one per sweep combination
    neural: tuple[str, ...]  # names of ``models``
    baselines: tuple[str, ...]
    bert: tuple[str, ...]  # neural models of arch bert
    uses_pretrain: bool  # a pretrain section, or a bert model on encoder 'pretrain'
    pretrain: dict  # the pretrain section ({} when absent)
    gan: dict | None  # the gan section
    gan_classes: tuple[str, ...]
    gan_classifier: str | None  # gan.classifier, else the first non-bert model; None without either
    sweep_members: dict[str, tuple[str, ...]]  # swept model entry -> the models its sweep made
    predict: dict[str, dict]  # dataset -> its predict section ({"inputs": {}} when absent)
    predict_models: dict[str, tuple[str, ...]]  # dataset -> models that score its predict inputs
    predict_queries: dict[str, str]  # predict input name -> kind (fasta, csv, bed, vcf), over all datasets
    exported: tuple[str, ...]  # models and baselines the export stage can carry (reads bert encoder folders)
    interpreted: tuple[str, ...]  # neural models the interpret stage explains
    extract_inputs: dict[str, dict[str, str | list[str]]]  # dataset -> extract's input files by name
    fetch_settings: dict[str, dict]  # dataset -> the fetch stage's settings (source, NCBI client without API key)
    extract_settings: dict[str, dict]  # dataset -> the extract stage's settings (EXTRACT_KEYS, EXTRACT_SPLIT_KEYS)
    run_information: dict[str, dict]  # dataset -> the settings the report shows (never the NCBI API key)
    notices: tuple[str, ...] = ()  # suspicious but valid settings, announced once by the Snakefile
    near_dedupe: tuple[str, ...] = ()  # datasets on split.dedupe near: the model stages read the qc stage's split

    @property
    def model_names(self) -> tuple[str, ...]:
        """Neural models, then baselines."""
        return self.neural + self.baselines

    def split_file(self, dataset: str) -> str:
        """The split the model stages read: the qc stage's (near duplicates moved) under split.dedupe near."""
        return f"results/{dataset}/qc/split.tsv" if dataset in self.near_dedupe else f"results/{dataset}/split.tsv"

    def model_file(self, dataset: str, model: str) -> str:
        kind = "model.npz" if model in self.baselines else "model.ckpt"
        return f"results/{dataset}/models/{model}/{kind}"

    def pretrained_encoder(self, dataset: str, model: str) -> dict[str, str]:
        """{"encoder": the pretrain stage's folder} for a bert model on encoder 'pretrain', else {}."""
        if model in self.bert and self.models[model].get("encoder") == "pretrain":
            return {"encoder": f"results/{dataset}/pretrain/encoder"}
        return {}

    def encoder_arg(self, model: str, pretrained: str | None) -> str:
        """finetune's --encoder: the pretrain stage's folder if given, else the model's encoder ('' if none)."""
        return pretrained if pretrained is not None else self.models[model].get("encoder", "")

    def classifier_input(self, dataset: str) -> dict[str, str]:
        """{"classifier": model.ckpt of gan_classifier} for the GAN stage, or {} without one."""
        if self.gan_classifier is None:
            return {}
        return {"classifier": f"results/{dataset}/models/{self.gan_classifier}/model.ckpt"}

    def lm_report_files(self, dataset: str) -> list[str]:
        """Pretraining history, embedding clusters and GAN quality files that the report shows."""
        files = []
        if self.uses_pretrain:
            files.append(f"results/{dataset}/pretrain/history.tsv")
            if self.pretrain["clusters"]:
                files.append(f"results/{dataset}/embeddings/clusters.json")
        return files + [f"results/{dataset}/gan/{label}/quality.json" for label in self.gan_classes]

    @property
    def region_queries(self) -> list[str]:
        """Predict inputs tiled into windows (choices.REGION_KINDS)."""
        return [name for name, kind in self.predict_queries.items() if kind in REGION_KINDS]

    @property
    def variant_queries(self) -> list[str]:
        """Predict inputs of variants (choices.VARIANT_KINDS)."""
        return [name for name, kind in self.predict_queries.items() if kind in VARIANT_KINDS]

    def predict_files(self, dataset: str, model: str, query: str) -> dict[str, str]:
        """Model, its run.json, the input file and (BED, VCF) the indexed reference."""
        spec = self.predict[dataset]["inputs"][query]
        files = {
            "model": self.model_file(dataset, model),
            "run": f"results/{dataset}/models/{model}/run.json",
            "data": spec[_kind(spec)],
        }
        if "reference" in spec:
            reference = spec["reference"]
            if reference == "records":
                reference = f"results/{dataset}/reference/records.fa.gz"
            files.update(reference=reference, fai=f"{reference}.fai")
        return files

    def predict_args(self, dataset: str, query: str, data: str, reference: str | None) -> str:
        """--<kind> FILE [--reference FASTA] --settings JSON (the dataset's predict settings), shell-quoted."""
        section = self.predict[dataset]
        args = [f"--{_kind(section['inputs'][query])}", data] + (["--reference", reference] if reference else [])
        settings = {k: v for k, v in section.items() if k not in PREDICT_INPUT_KEYS}
        return shlex.join(args + ["--settings", json.dumps(settings, sort_keys=True)])

    def predict_targets(self, dataset: str) -> list[str]:
        """summary.json of every (model, input) pair of the dataset (the report shows them)."""
        return [
            f"results/{dataset}/predict/{model}/{query}/summary.json"
            for model in self.predict_models[dataset]
            for query in self.predict[dataset]["inputs"]
        ]


def _kind(spec: dict) -> str:
    return next(k for k in PREDICT_KINDS if k in spec)


def _exportable(name: str, models: dict[str, dict], bert: tuple[str, ...]) -> bool:
    """Baselines and neural models on genomedl's tokens (BERT: encoder 'pretrain' or a genomedl folder,
    relative to the working directory)."""
    encoder = models.get(name, {}).get("encoder")
    return (
        name not in bert
        or encoder == "pretrain"
        or os.path.isfile(os.path.join(str(encoder), "genomedl_tokenizer.json"))
    )


def _extract_inputs(dataset: str, source: dict) -> dict[str, str | list[str]]:
    """GenBank sources read fetch's records; reference and labelled sources their own files."""
    if source.get("reference"):
        return {"fasta": source["reference"]["fasta"], "annotation": source["reference"]["annotation"]}
    if source.get("labelled"):
        return {"labelled": source["labelled"]}
    return {"records": f"results/{dataset}/raw/records.gb.gz"}


def resolve(config: dict) -> Plan:
    """The :class:`Plan` of a config already checked by ``validate_config``; ``config`` is not modified.

    Raises GenomedlError (one line) for a key that is no hyperparameter of the model's architecture, a
    bad sweep, a name in both models and baselines, a predict model that is not an entry, a predict input
    without exactly one kind, or one input name with two kinds.
    """
    engine_keys = set(load_schema()["$defs"]["model"]["properties"])
    for name, entry in config["models"].items():
        check_hyperparameters(name, entry, engine_keys)
    models = expand_sweeps(config["models"])
    datasets = tuple(sorted(config["datasets"]))
    neural = tuple(sorted(models))
    baselines = tuple(sorted(config["baselines"]))
    overlap = set(neural) & set(baselines)
    if overlap:
        raise GenomedlError(f"config keys models and baselines both name {sorted(overlap)}; rename one")
    names = neural + baselines
    bert = tuple(m for m in neural if models[m].get("arch") == "bert")

    sweep_members: dict[str, tuple[str, ...]] = {}
    for model in neural:
        group = (models[model].get("sweep") or {}).get("group")
        if group:
            sweep_members[group] = (*sweep_members.get(group, ()), model)

    predict, predict_models, predict_queries = {}, {}, {}
    for dataset in datasets:
        predict[dataset] = config["datasets"][dataset].get("predict") or {"inputs": {}}
        named = predict[dataset].get("models")
        predict_models[dataset] = (
            neural if named is None else tuple(m for name in named for m in sweep_members.get(name, (name,)))
        )
        for model in predict_models[dataset]:
            if model not in names:
                raise GenomedlError(
                    f"config key datasets.{dataset}.predict.models: {model!r} is not an entry "
                    f"of models or baselines ({', '.join(names)})"
                )
        for name, spec in predict[dataset]["inputs"].items():
            if sum(k in spec for k in PREDICT_KINDS) != 1:
                raise GenomedlError(
                    f"config key datasets.{dataset}.predict.inputs.{name}: give exactly one "
                    f"of {', '.join(PREDICT_KINDS)}"
                )
            kind = _kind(spec)
            if predict_queries.setdefault(name, kind) != kind:
                raise GenomedlError(
                    f"config key datasets.{dataset}.predict.inputs.{name}: another dataset "
                    "has an input of that name of another kind; rename one"
                )

    gan = config.get("gan")
    interpret = config["interpret"]
    ncbi = {k: v for k, v in config["ncbi"].items() if k != "api_key"}  # the key reaches fetch by the environment
    shown = {k: config[k] for k in RUN_INFORMATION_KEYS} | {"models": models}
    return Plan(
        datasets=datasets,
        models=models,
        neural=neural,
        baselines=baselines,
        bert=bert,
        uses_pretrain="pretrain" in config or any(models[m].get("encoder") == "pretrain" for m in bert),
        pretrain=stage_settings("pretrain", config.get("pretrain"), "pretrain"),
        gan=gan,
        gan_classes=tuple(gan["classes"]) if gan else (),
        gan_classifier=((gan.get("classifier") or next((m for m in neural if m not in bert), None)) if gan else None),
        sweep_members=sweep_members,
        predict=predict,
        predict_models=predict_models,
        predict_queries=predict_queries,
        exported=tuple(m for m in names if _exportable(m, models, bert)),
        interpreted=tuple(
            m for m in neural if interpret["enabled"] and (interpret["models"] is None or m in interpret["models"])
        ),
        extract_inputs={d: _extract_inputs(d, config["datasets"][d]["source"]) for d in datasets},
        fetch_settings={d: {"source": config["datasets"][d]["source"], "ncbi": ncbi} for d in datasets},
        extract_settings={
            d: {k: config["datasets"][d][k] for k in EXTRACT_KEYS}
            | {"split": {k: _split(config, d)[k] for k in EXTRACT_SPLIT_KEYS}}
            for d in datasets
        },
        run_information={d: shown | {"dataset": config["datasets"][d]} for d in datasets},
        notices=tuple(_notices(config, datasets)),
        near_dedupe=tuple(d for d in datasets if config["datasets"][d].get("split", {}).get("dedupe") == "near"),
    )


def _split(config: dict, dataset: str) -> dict:
    """The dataset's split section with the schema's defaults."""
    return stage_settings("split", config["datasets"][dataset].get("split"), f"datasets.{dataset}.split")


def _notices(config: dict, datasets: tuple[str, ...]):
    """``warning:`` lines for settings that are valid but probably not meant: validation and test
    fractions that leave less than half of a dataset for training."""
    for dataset in datasets:
        split = _split(config, dataset)
        if split["strategy"] in ("auto", "stratified_group") and split["val"] + split["test"] > 0.5:
            yield (
                f"warning: config key datasets.{dataset}.split: val {split['val']} + test {split['test']} leave "
                f"{1 - split['val'] - split['test']:.0%} of the windows for training (less than half)"
            )
