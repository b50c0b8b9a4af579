"""What the workflow builds from a validated config: its datasets, models, sweeps, exports and predictions.

:func:`resolve` also raises the config problems the schema cannot express, each as one
:class:`GenomedlError` line; ``workflow/rules/common.smk`` only calls it. Paths are relative to the
workflow's working directory. Torch-free, so the Snakefile can import it cheaply.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass, field

from genomedl.choices import PREDICT_KINDS, REGION_KINDS, VARIANT_KINDS
from genomedl.config.hyperparameters import check_hyperparameters
from genomedl.config.search import check_search
from genomedl.config.sweep import expand_sweeps
from genomedl.config.validate import load_schema, stage_settings
from genomedl.errors import GenomedlError
from genomedl.paths import path

EXTRACT_KEYS = ("source", "task", "task_options", "window")  # a dataset's keys that the extract stage reads
EXTRACT_PART_FILES = ("summary.json", "labels.tsv", "windows.npy")  # what each extract_part job writes
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
    transfer_datasets: tuple[str, ...] = ()  # datasets whose models are evaluated on other datasets (transfer.json)
    transfer_targets: dict[str, dict[str, str]] = field(default_factory=dict)  # dataset -> {target: test or all}
    ensemble_datasets: tuple[str, ...] = ()  # datasets on split.strategy kfold: fold models and ensemble
    searched: dict[str, tuple[str, ...]] = field(default_factory=dict)  # dataset -> models of a hyperparameter search
    folds: dict[str, int] = field(default_factory=dict)  # ensemble dataset -> split.k
    scattered: tuple[str, ...] = ()  # datasets whose indexed reference is extracted per group of sequences

    @property
    def model_names(self) -> tuple[str, ...]:
        """Neural models, then baselines."""
        return self.neural + self.baselines

    def split_file(self, dataset: str) -> str:
        """The split the model stages read: the qc stage's (near duplicates moved) under split.dedupe near."""
        return (
            path("qc", "split.tsv", dataset) if dataset in self.near_dedupe else path("dataset", "split.tsv", dataset)
        )

    def model_file(self, dataset: str, model: str) -> str:
        kind = "model.npz" if model in self.baselines else "model.ckpt"
        return path("model", kind, dataset, model=model)

    def dataset_files(self, dataset: str) -> dict[str, str]:
        """What the model stages read of ``dataset``: tokens ``[N, L]``, their meta, labels and split."""
        return {
            "tokens": path("encoded", "tokens.npy", dataset),
            "meta": path("encoded", "meta.json", dataset),
            "labels": path("dataset", "labels.tsv", dataset),
            "split": self.split_file(dataset),
        }

    def transfer_files(self, dataset: str) -> dict[str, list[str]]:
        """The transfer stage's inputs: every model and baseline of ``dataset`` with its run.json and the
        evaluate stage's metrics.json, and the files of each target in ``transfer_targets``."""
        names = self.model_names
        files = {
            "models": [self.model_file(dataset, m) for m in names],
            "runs": [path("model", "run.json", dataset, model=m) for m in names],
            "metrics": [path("eval", "metrics.json", dataset, model=m) for m in names],
        }
        return files | {"targets": [f for t in self._targets(dataset).values() for f in t["files"].values()]}

    def _targets(self, dataset: str) -> dict[str, dict]:
        """{target: {"split": test or all, "files": its dataset_files (no split file for all)}}."""
        return {
            target: {
                "split": split,
                "files": {k: v for k, v in self.dataset_files(target).items() if split == "test" or k != "split"},
            }
            for target, split in self.transfer_targets[dataset].items()
        }

    def transfer_args(self, dataset: str) -> str:
        """--model-dirs ... --eval-dirs ... --targets JSON of the transfer stage, shell-quoted."""
        names = self.model_names
        return shlex.join(
            ["--model-dirs", *(path("model", "", dataset, model=m) for m in names)]
            + ["--eval-dirs", *(path("eval", "", dataset, model=m) for m in names)]
            + ["--targets", json.dumps(self._targets(dataset), sort_keys=True)]
        )

    def fold_dir(self, dataset: str, model: str, fold: int) -> str:
        """Folder of ``model`` trained on fold ``fold`` of a kfold dataset: fold 0 (split.tsv) is the model itself."""
        return path("fold", "", dataset, model=model, fold=fold) if fold else path("model", "", dataset, model=model)

    def fold_inputs(self, dataset: str, model: str, fold: int) -> dict[str, str]:
        """What training ``model`` on fold ``fold`` reads: the dataset with the fold's split, the pretrained
        encoder (bert on encoder 'pretrain') and, for a searched model, its best trial's settings."""
        files = self.dataset_files(dataset) | {"split": path("fold_split", "split.tsv", dataset, fold=fold)}
        if model in self.searched.get(dataset, ()):
            files["searched"] = path("search", "settings.json", dataset, model=model)
        return files | self.pretrained_encoder(dataset, model)

    def training_settings(self, dataset: str, model: str) -> str:
        """--settings of a fold's train job: :meth:`entry_settings`, or for a searched model ``@`` its best
        trial's settings file (written by the search_pick rule)."""
        if model in self.searched.get(dataset, ()):
            return "@" + path("search", "settings.json", dataset, model=model)
        return self.entry_settings(dataset, model)

    def entry_settings(self, dataset: str, model: str) -> str:
        """The models entry of ``model`` as JSON; arch bert: with its encoder (see encoder_arg). Made from the
        config alone (no input files), so that snakemake sees a changed entry as changed params and reruns."""
        settings = self.models[model] | ({"encoder": self.encoder_arg(dataset, model)} if model in self.bert else {})
        return json.dumps(settings, sort_keys=True)

    def ensemble_files(self, dataset: str) -> list[str]:
        """The model file and run.json of every fold of every model and baseline of a kfold dataset."""
        return [
            f"{self.fold_dir(dataset, m, f)}/{name}"
            for m in self.model_names
            for f in range(self.folds[dataset])
            for name in (os.path.basename(self.model_file(dataset, m)), "run.json")
        ]

    def ensemble_args(self, dataset: str) -> str:
        """--models ... --model-dirs ... --k of the ensemble stage, shell-quoted."""
        k = self.folds[dataset]
        dirs = [self.fold_dir(dataset, m, f) for m in self.model_names for f in range(k)]
        return shlex.join(["--models", *self.model_names, "--model-dirs", *dirs, "--k", str(k)])

    def search_trials(self, dataset: str, model: str, before: int | None = None) -> list[str]:
        """value.json of every trial of ``model``'s search, or (``before``: a trial) of the batches before its."""
        search = self.models[model]["search"]
        last = search["budget"] if before is None else before - before % search["parallel"]
        return [path("trial", "value.json", dataset, model=model, trial=t) for t in range(last)]

    def pretrained_encoder(self, dataset: str, model: str) -> dict[str, str]:
        """{"encoder": the pretrain stage's folder} for a bert model on encoder 'pretrain', else {}."""
        if model in self.bert and self.models[model].get("encoder") == "pretrain":
            return {"encoder": path("pretrain", "encoder", dataset)}
        return {}

    def encoder_arg(self, dataset: str, model: str) -> str:
        """finetune's --encoder: the pretrain stage's folder for 'encoder: pretrain', else the model's encoder
        ('' if none)."""
        return self.pretrained_encoder(dataset, model).get("encoder", self.models[model].get("encoder", ""))

    def classifier_input(self, dataset: str) -> dict[str, str]:
        """{"classifier": model.ckpt of gan_classifier} for the GAN stage, or {} without one."""
        if self.gan_classifier is None:
            return {}
        return {"classifier": path("model", "model.ckpt", dataset, model=self.gan_classifier)}

    def lm_report_files(self, dataset: str) -> list[str]:
        """Pretraining history, embedding clusters and GAN quality files that the report shows."""
        files = []
        if self.uses_pretrain:
            files.append(path("pretrain", "history.tsv", dataset))
            if self.pretrain["clusters"]:
                files.append(path("embeddings", "clusters.json", dataset))
        return files + [path("gan", "quality.json", dataset, label=label) for label in self.gan_classes]

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
            "run": path("model", "run.json", dataset, model=model),
            "data": spec[_kind(spec)],
        }
        if "reference" in spec:
            reference = spec["reference"]
            if reference == "records":
                reference = path("reference", "records.fa.gz", dataset)
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
            path("predict", "summary.json", dataset, model=model, query=query)
            for model in self.predict_models[dataset]
            for query in self.predict[dataset]["inputs"]
        ]


def _read_source(config: dict, dataset: str) -> dict:
    """A dataset's source as fetch and extract read it: without ``taxon``, which only interpret reads (so that
    naming the organism's group reruns no extraction)."""
    return {k: v for k, v in config["datasets"][dataset]["source"].items() if k != "taxon"}


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


def _extract_inputs(dataset: str, source: dict, scattered: bool) -> dict[str, str | list[str]]:
    """GenBank sources read fetch's records; reference and labelled sources their own files; a scattered
    reference the groups of the extract_groups checkpoint (the extract_part jobs are added by the workflow)."""
    if scattered:
        return {"groups": path("parts", "groups.json", dataset)}
    if source.get("reference"):
        return {"fasta": source["reference"]["fasta"], "annotation": source["reference"]["annotation"]}
    if source.get("labelled"):
        return {"labelled": source["labelled"]}
    return {"records": path("raw", "records.gb.gz", dataset)}


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
    for name, entry in models.items():
        if "search" in entry:
            check_search(name, entry, engine_keys)
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

    transfer = {d: _transfer_targets(config, d) for d in datasets}
    demo = set(demo_outputs(config["demo_data"])) if "demo_data" in config else set()
    scattered = tuple(d for d in datasets if _indexed_reference(config["datasets"][d]["source"], demo))
    folds = {d: _split(config, d)["k"] for d in datasets if _kfold(config, d)}
    searched = tuple(m for m in neural if "search" in models[m])
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
        extract_inputs={d: _extract_inputs(d, config["datasets"][d]["source"], d in scattered) for d in datasets},
        fetch_settings={d: {"source": _read_source(config, d), "ncbi": ncbi} for d in datasets},
        extract_settings={
            d: {k: config["datasets"][d][k] for k in EXTRACT_KEYS}
            | {"source": _read_source(config, d), "split": {k: _split(config, d)[k] for k in EXTRACT_SPLIT_KEYS}}
            for d in datasets
        },
        run_information={d: shown | {"dataset": config["datasets"][d]} for d in datasets},
        notices=tuple(_notices(config, datasets)),
        near_dedupe=tuple(d for d in datasets if config["datasets"][d].get("split", {}).get("dedupe") == "near"),
        transfer_datasets=tuple(d for d in datasets if transfer[d]),
        transfer_targets={d: targets for d, targets in transfer.items() if targets},
        ensemble_datasets=tuple(folds),
        searched={d: searched for d in datasets} if searched else {},
        folds=folds,
        scattered=scattered,
    )


FASTA_SUFFIXES = (".fa", ".fna", ".fasta")


def is_fasta(name: str) -> bool:
    return name.lower().removesuffix(".gz").endswith(FASTA_SUFFIXES)


def demo_outputs(settings: dict) -> list[str]:
    """Every file the demo-data stage writes: each of ``files`` under ``out_dir``; a FASTA also gets its
    ``.fai`` index (and ``.gzi`` when bgzip-compressed)."""
    out = []
    for name in settings["files"]:
        target = f"{settings['out_dir']}/{name}"
        out.append(target)
        if is_fasta(name):
            out += [f"{target}.fai"] + ([f"{target}.gzi"] if name.endswith(".gz") else [])
    return out


def _indexed_reference(source: dict, demo: set[str]) -> bool:
    """A reference FASTA with a .fai index, there now or written by the demo_data rule: extracted per group of
    sequences (source.reference.group_bp), the groups known once the index exists (a checkpoint)."""
    reference = source.get("reference")
    fai = f"{reference['fasta']}.fai" if reference else None
    return bool(reference) and (os.path.isfile(fai) or fai in demo)


def _window_length(dataset: dict) -> int | None:
    """bp per window; None for a labelled source's longest sequence (known after extraction)."""
    window = dataset["window"]
    if window["length"] is None and "labelled" not in dataset["source"]:
        return window["default_length"]
    return window["length"]


def _transfer_targets(config: dict, dataset: str) -> dict[str, str]:
    """{target: split} of ``datasets.<dataset>.evaluate_on``: other datasets of the same task and window length
    (labelled classes and a labelled source's longest sequence are checked by the transfer stage)."""
    key, own, targets = f"config key datasets.{dataset}.evaluate_on", config["datasets"][dataset], {}
    for entry in own["evaluate_on"]:
        target, other = entry["dataset"], config["datasets"].get(entry["dataset"])
        if other is None or target == dataset or target in targets:
            problem = "is not a dataset" if other is None else "is this dataset" if target == dataset else "repeats"
            raise GenomedlError(
                f"{key}: {target!r} {problem}; name each other dataset once ({', '.join(sorted(config['datasets']))})"
            )
        if other["task"] != own["task"]:
            raise GenomedlError(
                f"{key}: {target} has task {other['task']}, {dataset} {own['task']}; "
                "models are evaluated only on datasets of their task (the same classes)"
            )
        lengths = _window_length(own), _window_length(other)
        if None not in lengths and lengths[0] != lengths[1]:
            raise GenomedlError(
                f"{key}: {target} has {lengths[1]} bp windows, {dataset} {lengths[0]} bp; "
                "give both datasets the same window.length"
            )
        targets[target] = entry["split"]
    return targets


def _kfold(config: dict, dataset: str) -> bool:
    """Whether ``dataset`` is split k-fold (fold models and their ensemble); refuses split.dedupe near, whose
    moved near duplicates exist for split.tsv (fold 0) only."""
    split = _split(config, dataset)
    if split["strategy"] == "kfold" and split["dedupe"] == "near":
        raise GenomedlError(
            f"config key datasets.{dataset}.split.dedupe: near moves windows of fold 0 only; with strategy kfold "
            "use collapse (or auto)"
        )
    return split["strategy"] == "kfold"


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
