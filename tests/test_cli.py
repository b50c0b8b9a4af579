"""The command line: one line per user error, exit status 2, traceback only with --debug."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import cli_args


def genomedl(*args):
    return subprocess.run([sys.executable, "-m", "genomedl", *args], capture_output=True, text=True)


def test_every_stage_has_a_subcommand():
    done = genomedl("--help")
    for stage in ("fetch", "extract", "encode", "split", "train", "baseline", "evaluate", "report"):
        assert stage in done.stdout


def test_bad_input_is_one_line(tmp_path):
    bad = tmp_path / "bad.gb"
    bad.write_text("LOCUS       X 10 bp DNA linear\nORIGIN\n        1 acgtacgtac\n")
    fetch = cli_args(
        "fetch",
        settings=json.dumps({"source": {"local": [str(bad)]}}),
        records=tmp_path / "r.gb.gz",
        manifest=tmp_path / "m.tsv",
        genes=tmp_path / "g.json",
    )
    done = genomedl(*fetch)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.gb" in lines[0] and "Traceback" not in done.stderr
    assert not list(tmp_path.glob("r.gb.gz*")) and not (tmp_path / "m.tsv").exists()
    debug = genomedl("--debug", *fetch)
    assert "Traceback" in debug.stderr


def test_missing_input_file_is_named(tmp_path):
    done = genomedl(
        "encode",
        "--fasta",
        str(tmp_path / "none.fa.gz"),
        "--labels",
        str(tmp_path / "none.tsv"),
        "--tokens",
        str(tmp_path / "t.npy"),
        "--meta",
        str(tmp_path / "m.json"),
    )
    assert done.returncode == 2
    assert "none.tsv: file not found" in done.stderr


def test_every_stage_prints_its_help(capsys):
    """Help texts come from the schema's descriptions, which may hold '%' (argparse formats help with %)."""
    from genomedl.cli import STAGES, build_parser

    for name in STAGES:
        with pytest.raises(SystemExit) as done:
            build_parser().parse_args([name, "--help"])
        assert done.value.code == 0 and name in capsys.readouterr().out
