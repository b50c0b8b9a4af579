"""The NCBI API key reaches NCBI and nothing else: a whole run, grepped file by file.

One workflow run fetches real records from a loopback E-utilities server with an API key set in
the config; a second dataset names an accession that does not exist, so the run also produces an
error message. Afterwards no file the run wrote (results, logs, Snakemake's own metadata and logs,
the Snakemake report) nor its console output holds the key in any encoding.
"""

from __future__ import annotations

import gzip
import urllib.parse
import zipfile
from pathlib import Path

import pytest
import yaml

from helpers import copy_workflow, snakemake
from ncbi.eutils_server import FakeEutils, RunningServer

pytestmark = pytest.mark.workflow
KEY = "k3yQ9zW7vX2m+/="  # with characters that URL-encoding changes
FORMS = [KEY, urllib.parse.quote(KEY, safe=""), urllib.parse.quote_plus(KEY), KEY[:10]]
RECORDS = ["NG_012337.1", "NG_009105.1", "NG_008939.1", "NG_012772.1"]


def contents(path: Path) -> bytes:
    """A file's bytes, decompressed where it is gzip (bgzip too) or a zip archive (npz, Snakemake report)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return b"".join(archive.read(name) for name in archive.namelist())
    return data


def write_config(workdir: Path, base_url: str) -> None:
    dataset = {
        "task": "exon_intron",
        "window": {"length": 200, "mode": "tiled", "stride": 200},
        "split": {"val": 0.25, "test": 0.25, "group_by": "record"},
    }
    config = {
        "seed": 1,
        "ncbi": {"email": "tests@example.org", "api_key": KEY, "base_url": base_url, "max_rps": 50},
        "datasets": {
            "panel": {"source": {"accessions": RECORDS}, **dataset},
            "missing": {"source": {"accessions": ["NX_999999.1"]}, **dataset},
        },
        "models": {"cnn": {"arch": "cnn", "epochs": 1, "filters": [16], "kernels": [9], "pools": [4], "hidden": 16}},
        "baselines": {"kmer_logreg": {"k": [2, 3]}},
        "interpret": {"enabled": False},
        "evaluate": {"bootstrap": 100},
    }
    (workdir / "config" / "secret.yaml").write_text(yaml.safe_dump(config))


def test_api_key_appears_in_no_output_of_a_whole_run(tmp_path, shared_data):
    if not (shared_data / "ncbi_responses").is_dir():
        pytest.skip(f"{shared_data} has no ncbi_responses/ for the loopback E-utilities server")
    workdir = copy_workflow(tmp_path)
    fake = FakeEutils(shared_data)
    server = RunningServer(fake)
    try:
        write_config(workdir, server.base_url)
        args = ("--configfile", "config/secret.yaml", "--profile", "profiles/local", "--keep-going")
        run = snakemake(workdir, *args, check=False)
        report = snakemake(
            workdir,
            "--configfile",
            "config/secret.yaml",
            "--report",
            "smk-report.zip",
            "results/panel/report/index.html",
            check=False,
        )
    finally:
        server.close()

    assert run.returncode != 0  # the missing accession fails its dataset
    assert (workdir / "results/panel/report/index.html").is_file(), run.stderr[-3000:]
    assert report.returncode == 0, report.stderr[-3000:]
    fetch_log = (workdir / "logs/missing/fetch.log").read_text()
    assert "NX_999999.1" in fetch_log and "error" in fetch_log  # the error message is among the outputs
    assert [s.params.get("api_key") for s in fake.seen()] == [KEY] * len(fake.seen()) != []

    grepped = 0
    for path in sorted(workdir.rglob("*")):
        if path.is_file() and path != workdir / "config/secret.yaml":
            data = contents(path)
            for form in FORMS:
                assert form.encode() not in data, f"{form!r} in {path.relative_to(workdir)}"
            grepped += 1
    assert grepped > 50  # results, logs, .snakemake metadata, report
    for stream in (run.stdout, run.stderr, report.stdout, report.stderr):
        assert not any(form in stream for form in FORMS)
