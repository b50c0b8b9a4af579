"""What a person sees on the console at the end of a real Snakemake run: a failed job's genomedl line last,
and the warnings of finished jobs that changed the data (Snakefile onerror/onsuccess, genomedl.runlog)."""

from __future__ import annotations

from html import escape
from pathlib import Path

import yaml

from helpers import HOSTILE, copy_workflow, lean_config, report_of, snakemake, write_inputs


def reference_dataset(workdir: Path, shared: Path, annotation: str) -> None:
    """The workflow's config with one dataset 'ref': NG_012337.1's FASTA and ``annotation`` (text), task region."""
    inputs = workdir / "inputs"
    inputs.mkdir()
    (inputs / "ref.fa").write_text((shared / "gff" / "NG_012337.1.fasta").read_text())
    name = "ann.bed" if annotation.count("\t") == annotation.count("\n") * 5 else "ann.gff3"
    (inputs / name).write_text(annotation)
    path = lean_config(workdir) / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text())
    config["datasets"] = {
        "ref": {
            "source": {"reference": {"fasta": "inputs/ref.fa", "annotation": f"inputs/{name}"}},
            "task": "region",
            "window": {"length": 100, "stride": 100},
        }
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def test_a_failed_jobs_genomedl_line_is_the_last_thing_on_the_console(shared_data, tmp_path):
    workdir = copy_workflow(tmp_path)
    reference_dataset(workdir, shared_data, "NG_012337.1\t100\t900\ttx\t0\t+\n")  # BED6, task region needs BED12
    done = snakemake(workdir, "results/ref/labels.tsv", check=False, timeout=300)
    assert done.returncode != 0
    last = done.stderr.rstrip("\n").splitlines()[-1]
    assert last.startswith("genomedl extract: error: inputs/ann.bed: a BED6 file, but task region needs BED12"), (
        done.stderr[-2000:]
    )
    assert "Traceback" not in done.stderr


def test_warnings_of_finished_jobs_are_summarised_at_the_end(shared_data, tmp_path):
    workdir = copy_workflow(tmp_path)
    gff = (shared_data / "gff" / "NG_012337.1.gff3").read_text() + "chrUn\tx\tgene\t1\t50\t.\t+\t.\tID=g9\n"
    reference_dataset(workdir, shared_data, gff)
    done = snakemake(workdir, "results/ref/labels.tsv", "results/ref/extract_summary.json", timeout=300)
    tail = done.stderr[done.stderr.index("genomedl: ") :].splitlines()
    assert tail[0].startswith("genomedl: ") and "warning(s) of finished jobs" in tail[0], done.stderr[-2000:]
    assert any(
        line.startswith("logs/ref/extract.log: warning: inputs/ann.gff3: 1 sequence id(s) not in inputs/ref.fa: chrUn")
        for line in tail
    ), tail
    summary = yaml.safe_load((workdir / "results" / "ref" / "extract_summary.json").read_text())
    assert any("chrUn" in w for w in summary["warnings"])
    again = snakemake(workdir, "results/ref/labels.tsv", timeout=300)  # nothing ran: nothing to summarise
    assert "warning(s) of finished jobs" not in again.stderr


def test_the_report_lists_the_extract_warnings(tmp_path):
    """The extract stage keeps its warning lines in extract_summary.json; the report shows them, escaped."""
    from genomedl.tables import read_json, write_json

    dirs = write_inputs(tmp_path)
    summary = read_json(tmp_path / "extract.json")
    warned = f"warning: ann.gff3: 1 sequence id(s) not in ref.fa: {HOSTILE} (closest: NG_012337.1); skipped"
    write_json(summary | {"warnings": [warned]}, tmp_path / "extract.json")
    out = report_of(tmp_path, dirs, run_config={}, settings={"bootstrap": 200})
    html = out.read_text()
    section = html.split('id="input-warnings"', 1)[1].split("</ul>", 1)[0]
    assert "1 warning(s)" in section and escape(warned) in section and HOSTILE not in html
