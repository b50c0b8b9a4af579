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
    _stage_inputs(p, "records", "fasta", "labels", "summary")
    p.add_argument("--task", required=True)
    p.add_argument("--window", type=_json, required=True, help="JSON: window policy")

    p = sub.add_parser("encode", help="FASTA windows -> uint8 tokens [N, L] (.npy)")
    _stage_inputs(p, "fasta", "labels", "tokens", "meta")

    p = sub.add_parser("split", help="stratified, grouped train/val/test split")
    _stage_inputs(p, "labels", "split", "summary")
    p.add_argument("--val", type=float, required=True)
    p.add_argument("--test", type=float, required=True)
    p.add_argument("--group-by", required=True)
    p.add_argument("--seed", type=int, required=True)

    for name, text in (("train", "train a neural network"), ("baseline", "fit a k-mer baseline")):
        p = sub.add_parser(name, help=text)
        _stage_inputs(p, "tokens", "meta", "labels", "split", "out-dir")
        p.add_argument("--name", required=True)
        p.add_argument("--settings", type=_json, required=True)
        p.add_argument("--seed", type=int, required=True)

    p = sub.add_parser("evaluate", help="test-split predictions and metrics")
    _stage_inputs(p, "model-dir", "tokens", "meta", "labels", "split", "out-dir")

    p = sub.add_parser("report", help="self-contained HTML report of one dataset")
    _stage_inputs(p, "manifest", "extract-summary", "split-summary", "out")
    p.add_argument("--dataset", required=True)
    p.add_argument("--model-dirs", type=Path, nargs="+", required=True)
    p.add_argument("--eval-dirs", type=Path, nargs="+", required=True)
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
        from .extract import WindowPolicy, run_extract
        run_extract(args.records, args.task, WindowPolicy(**args.window), args.fasta, args.labels, args.summary)
    elif args.command == "encode":
        from .encode import run_encode
        run_encode(args.fasta, args.labels, args.tokens, args.meta)
    elif args.command == "split":
        from .split import run_split
        run_split(args.labels, args.split, args.summary, args.val, args.test, args.group_by, args.seed)
    elif args.command in ("train", "baseline"):
        from .baseline import run_baseline
        from .train import run_train
        runner = run_train if args.command == "train" else run_baseline
        runner(args.tokens, args.meta, args.labels, args.split, args.out_dir, args.name, args.settings, args.seed)
    elif args.command == "evaluate":
        from .evaluate import run_evaluate
        run_evaluate(args.model_dir, args.tokens, args.meta, args.labels, args.split, args.out_dir)
    elif args.command == "report":
        from .report import run_report
        run_report(args.dataset, args.manifest, args.extract_summary, args.split_summary, args.model_dirs,
                   args.eval_dirs, args.out)


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
