"""Command line: ``genomedl <stage> ...``, one subcommand per workflow stage.

Errors caused by input or configuration print one line and exit with status 2; ``--debug`` shows
the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import GenomedlError


def _json(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return value


def _stage_inputs(parser: argparse.ArgumentParser, *names: str) -> None:
    for name in names:
        parser.add_argument(f"--{name}", type=Path, required=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genomedl", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo-data", help="extract real GenBank files from Biopython's sdist (pip download)")
    p.add_argument("--version", required=True)
    p.add_argument("--sha256", required=True)
    p.add_argument("--members", nargs="+", required=True, help="paths under the sdist's Tests/ folder")
    p.add_argument("--outputs", type=Path, nargs="+", required=True, help="where each member is written")

    p = sub.add_parser("fetch", help="gather GenBank records (local files, NCBI) + provenance manifest")
    p.add_argument("--source", type=_json, required=True, help="JSON: the dataset's source section")
    p.add_argument("--ncbi", type=_json, default={}, help="JSON: NCBI client settings (email, offline...)")
    p.add_argument("--cache-dir", type=Path, default=Path(".cache/ncbi"))
    _stage_inputs(p, "records", "manifest", "genes")

    p = sub.add_parser("extract", help="labelled windows -> bgzipped, indexed FASTA + labels.tsv")
    _stage_inputs(p, "fasta", "labels", "summary")
    p.add_argument("--records", type=Path, help="fetched GenBank records (GenBank sources)")
    p.add_argument("--source", type=_json, default={}, help="JSON: the dataset's source section")
    p.add_argument("--task", required=True)
    p.add_argument("--window", type=_json, required=True, help="JSON: window policy")
    p.add_argument("--options", type=_json, default={}, help="JSON: task options (negatives, promoter offsets)")
    p.add_argument("--seed", type=int, default=0, help="seed for jitter and negative sampling")

    p = sub.add_parser("encode", help="FASTA windows -> uint8 tokens [N, L] (.npy)")
    _stage_inputs(p, "fasta", "labels", "tokens", "meta")

    p = sub.add_parser("kmers", help="uint8 tokens -> k-mer ids [N, T + 2] (.npy) + vocabulary")
    _stage_inputs(p, "tokens", "out", "vocab")
    p.add_argument("--k", type=int, required=True)
    p.add_argument("--stride", choices=["overlapping", "non-overlapping"], default="overlapping")

    p = sub.add_parser("split", help="train/val/test split with leakage guards")
    _stage_inputs(p, "labels", "tokens", "split", "summary")
    p.add_argument("--settings", type=_json, required=True, help="JSON: the dataset's split section")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--fold", type=int, default=0, help="fold of strategy kfold (0-based)")

    for name, text in (("train", "train a neural network"), ("baseline", "fit a k-mer baseline")):
        p = sub.add_parser(name, help=text)
        _stage_inputs(p, "tokens", "meta", "labels", "split", "out-dir")
        p.add_argument("--name", required=True)
        p.add_argument("--settings", type=_json, required=True)
        p.add_argument("--seed", type=int, required=True)

    p = sub.add_parser("pretrain", help="BERT masked-LM pretraining on the train split (+ extra FASTA)")
    _stage_inputs(p, "tokens", "split", "out-dir")
    p.add_argument("--settings", type=_json, required=True, help="JSON: the pretrain section")
    p.add_argument("--seed", type=int, required=True)

    p = sub.add_parser("finetune", help="fine-tune a pretrained (own or published) BERT-style encoder")
    _stage_inputs(p, "tokens", "meta", "labels", "split", "out-dir")
    p.add_argument("--name", required=True)
    p.add_argument("--settings", type=_json, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--encoder", help="folder or Hugging Face id; overrides the settings' encoder")

    p = sub.add_parser("embed", help="cluster encoder embeddings of the test split (purity, 2-D map)")
    _stage_inputs(p, "encoder", "tokens", "meta", "labels", "split", "out")
    p.add_argument("--seed", type=int, required=True)

    p = sub.add_parser("gan", help="WGAN-GP on one class; generated FASTA and quality metrics")
    _stage_inputs(p, "tokens", "meta", "labels", "split", "out-dir")
    p.add_argument("--label", required=True, help="the class to generate")
    p.add_argument("--settings", type=_json, required=True, help="JSON: the gan section")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--classifier", type=Path, help="model.ckpt of a trained classifier that scores the sequences")

    p = sub.add_parser("evaluate", help="test-split predictions, metrics with bootstrap intervals, figures")
    _stage_inputs(p, "model-dir", "tokens", "meta", "labels", "split", "out-dir")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the intervals (0: none)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap resamples")

    p = sub.add_parser("plot-training", help="training curves and gradient diagnostics of one model (PNG)")
    _stage_inputs(p, "history", "run", "out")

    p = sub.add_parser("interpret", help="attributions, motifs matched to JASPAR, filters, attention of a model")
    _stage_inputs(p, "model-dir", "tokens", "meta", "labels", "split", "out-dir")
    p.add_argument("--settings", type=_json, required=True, help="JSON: the interpret section")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("predict", help="class probabilities of a model on FASTA/CSV sequences or BED regions, "
                                          "or the effects of VCF/BCF variants")
    _stage_inputs(p, "model-dir", "out-dir")
    kinds = p.add_mutually_exclusive_group(required=True)
    for kind in ("fasta", "csv", "bed", "vcf"):
        kinds.add_argument(f"--{kind}", type=Path)
    p.add_argument("--reference", type=Path, help="indexed reference FASTA (for --bed and --vcf)")
    p.add_argument("--stride", type=int, help="bp between windows on long inputs (default: half the window)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--strands", choices=["both", "forward"], default="both",
                   help="both: the two strands' probabilities averaged, as genomedl evaluates every model")
    p.add_argument("--max-allele", type=int, default=50, help="longer REF/ALT alleles are skipped (long_indel)")
    p.add_argument("--top", type=int, default=10, help="strongest variant effects listed in the summary")

    p = sub.add_parser("reference-fasta", help="GenBank records -> bgzipped, faidx-indexed FASTA to predict on")
    _stage_inputs(p, "records", "out")

    p = sub.add_parser("export", help="portable model (TorchScript + safetensors) with a model card")
    _stage_inputs(p, "model-dir", "eval-dir", "tokens", "manifest", "extract-summary", "split-summary", "out-dir")
    p.add_argument("--dataset", required=True)
    p.add_argument("--dataset-settings", type=_json, default={}, help="JSON: the dataset's config section")

    p = sub.add_parser("report", help="self-contained HTML report of one dataset")
    _stage_inputs(p, "manifest", "extract-summary", "split-summary", "tokens", "labels", "out", "leaderboard",
                  "overview")
    p.add_argument("--dataset", required=True)
    p.add_argument("--model-dirs", type=Path, nargs="+", required=True)
    p.add_argument("--eval-dirs", type=Path, nargs="+", required=True)
    p.add_argument("--interpret-dirs", type=Path, nargs="*", default=[])
    p.add_argument("--run-config", type=_json, default={}, help="JSON: the settings shown under run information")
    p.add_argument("--bootstrap", type=int, default=1000, help="resamples of the paired bootstrap test")
    p.add_argument("--lm-files", type=Path, nargs="*", default=[],
                   help="pretrain history, embedding clusters and GAN quality files (language-model section)")
    p.add_argument("--predict-dirs", type=Path, nargs="*", default=[],
                   help="predict output folders (predictions and variant effects section)")
    p.add_argument("--model-cards", type=Path, nargs="*", default=[],
                   help="model_card.json files of the export stage (model cards section)")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("report-index", help="index page linking the reports of several datasets")
    p.add_argument("--reports", type=Path, nargs="+", required=True)
    p.add_argument("--out", type=Path, required=True)
    return parser


def dispatch(args: argparse.Namespace) -> None:
    """Run the stage named by ``args.command`` (imports stay lazy: torch loads only where needed)."""
    if args.command == "demo-data":
        from .demo_data import extract_test_files
        extract_test_files(args.version, args.sha256, args.members, args.outputs)
    elif args.command == "fetch":
        from .fetch import run_fetch
        run_fetch(args.source, args.records, args.manifest, args.genes, ncbi=args.ncbi, cache_dir=args.cache_dir)
    elif args.command == "extract":
        from .extract import run_extract
        run_extract(args.records, args.task, args.window, args.fasta, args.labels, args.summary,
                    source=args.source, seed=args.seed, options=args.options)
    elif args.command == "encode":
        from .encode import run_encode
        run_encode(args.fasta, args.labels, args.tokens, args.meta)
    elif args.command == "split":
        from .split import run_split
        run_split(args.labels, args.tokens, args.split, args.summary, args.settings, args.seed, args.fold)
    elif args.command == "kmers":
        from .encode.kmers import run_kmers
        run_kmers(args.tokens, args.k, args.stride == "overlapping", args.out, args.vocab)
    elif args.command in ("train", "baseline"):
        from .baseline import run_baseline
        from .train import run_train
        runner = run_train if args.command == "train" else run_baseline
        runner(args.tokens, args.meta, args.labels, args.split, args.out_dir, args.name, args.settings, args.seed)
    elif args.command == "pretrain":
        from .lm.pretrain import run_pretrain
        run_pretrain(args.tokens, args.split, args.out_dir, args.settings, args.seed)
    elif args.command == "finetune":
        from .lm.finetune import run_finetune
        run_finetune(args.tokens, args.meta, args.labels, args.split, args.out_dir, args.name, args.settings,
                     args.seed, encoder=args.encoder)
    elif args.command == "embed":
        from .lm.embed import run_embed
        run_embed(args.encoder, args.tokens, args.meta, args.labels, args.split, args.out, args.seed)
    elif args.command == "gan":
        from .gan import run_gan
        run_gan(args.tokens, args.meta, args.labels, args.split, args.label, args.out_dir, args.settings, args.seed,
                classifier=args.classifier)
    elif args.command == "evaluate":
        from .evaluate import run_evaluate
        run_evaluate(args.model_dir, args.tokens, args.meta, args.labels, args.split, args.out_dir,
                     n_boot=args.bootstrap, seed=args.seed)
    elif args.command == "plot-training":
        from .report import plot_training
        plot_training(args.history, args.run, args.out)
    elif args.command == "interpret":
        from .interpret import run_interpret
        run_interpret(args.model_dir, args.tokens, args.meta, args.labels, args.split, args.out_dir, args.settings,
                      args.seed)
    elif args.command == "predict":
        from .predict import KINDS, run_predict
        kind = next(k for k in KINDS if getattr(args, k) is not None)
        run_predict(args.model_dir, args.out_dir, kind, getattr(args, kind), reference=args.reference,
                    stride=args.stride, batch_size=args.batch_size, strands=args.strands,
                    max_allele=args.max_allele, top=args.top)
    elif args.command == "reference-fasta":
        from .predict.reference import write_records_fasta
        write_records_fasta(args.records, args.out)
    elif args.command == "export":
        from .export import run_export
        run_export(args.model_dir, args.eval_dir, args.tokens, args.manifest, args.extract_summary,
                   args.split_summary, args.out_dir, args.dataset, args.dataset_settings)
    elif args.command == "report":
        from .report import run_report
        run_report(args.dataset, args.manifest, args.extract_summary, args.split_summary, args.model_dirs,
                   args.eval_dirs, args.out, tokens=args.tokens, labels=args.labels,
                   interpret_dirs=args.interpret_dirs, run_config=args.run_config, leaderboard_out=args.leaderboard,
                   overview_out=args.overview, n_boot=args.bootstrap, seed=args.seed, lm_files=args.lm_files,
                   predict_dirs=args.predict_dirs, model_cards=args.model_cards)
    elif args.command == "report-index":
        from .report import run_index
        run_index(args.reports, args.out)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
        print(f"genomedl {args.command}: error: {exc.filename}: file not found; run the stage that makes it "
              "first", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
