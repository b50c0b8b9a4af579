"""The config file and the input files it names, checked before Snakemake plans a job.

:func:`read_config_file` names the line of a YAML error; :func:`check_input_files` names the config key of an
input file that does not exist (Snakemake would report it as a missing input of some rule); ``genomedl check-config``
(:mod:`genomedl.stages.check_config`) runs both. Torch-free, so the Snakefile can import it cheaply.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from genomedl.choices import PREDICT_KINDS
from genomedl.config.resolve import demo_outputs
from genomedl.errors import GenomedlError

YAML_FIX = "correct the YAML there (indent with spaces, never tabs; quote a value that holds ': ' or ' #')"


def read_config_file(path: str | Path) -> dict:
    """The mapping of a YAML config file; GenomedlError naming the file (and line and column of a syntax error)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GenomedlError(f"{path}: config file not found; fix the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GenomedlError(f"{path}: cannot read the config file ({exc}); save it as UTF-8 text") from None
    try:
        config = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        raise GenomedlError(f"{path}: {yaml_problem(exc)}; {YAML_FIX}") from None
    except yaml.YAMLError as exc:
        raise GenomedlError(f"{path}: not valid YAML ({' '.join(str(exc).split())}); {YAML_FIX}") from None
    if not isinstance(config, dict):
        raise GenomedlError(f"{path}: the file holds no mapping of config keys; see config/README.md")
    return config


def at(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    """``line L, column C: not valid YAML (problem; context begun at line L', column C')``."""
    mark = exc.problem_mark or exc.context_mark
    problem = " ".join(str(exc.problem or exc.context).split())
    if exc.context and exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
        problem += f"; {exc.context} begun at {at(exc.context_mark)}"
    return (f"{at(mark)}: " if mark else "") + f"not valid YAML ({problem})"


def named_files(config: dict) -> list[tuple[str, str]]:
    """(config key, path) of every local file a validated ``config`` names: each dataset's source files and its
    predict inputs with their references (``records``, the dataset's own records, is no file)."""
    out = []
    for name, dataset in config["datasets"].items():
        source, key = dataset["source"], f"datasets.{name}.source"
        out += [(f"{key}.{kind}", path) for kind in ("local", "labelled") for path in source.get(kind) or []]
        reference = source.get("reference") or {}
        out += [(f"{key}.reference.{k}", reference[k]) for k in ("fasta", "annotation") if k in reference]
        for query, spec in ((dataset.get("predict") or {}).get("inputs") or {}).items():
            key = f"datasets.{name}.predict.inputs.{query}"
            out += [(f"{key}.{kind}", spec[kind]) for kind in PREDICT_KINDS if kind in spec]
            if spec.get("reference", "records") != "records":
                out += [(f"{key}.reference", spec["reference"]), (f"{key}.reference", f"{spec['reference']}.fai")]
    return out


def check_input_files(config: dict) -> None:
    """Refuse a validated ``config`` that names a file that does not exist and that no rule writes (the demo data's
    files are written by the demo_data rule): one line with its config key; paths are relative to the working
    directory."""
    made = set(demo_outputs(config["demo_data"])) if "demo_data" in config else set()
    for key, path in named_files(config):
        if path in made or os.path.exists(path):
            continue
        if path.endswith(".fai") and os.path.exists(path[: -len(".fai")]):
            fasta = path[: -len(".fai")]
            raise GenomedlError(
                f"config key {key}: {fasta} has no index beside it ({path}); index it with samtools faidx {fasta} "
                "(bgzip a gzip-compressed FASTA first)"
            )
        raise GenomedlError(f"config key {key}: {path} not found (relative to {os.getcwd()}); fix the path")
