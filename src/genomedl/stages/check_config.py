"""check-config: a config file checked as the workflow would check it (YAML, schema, what the schema cannot
express, input files), without Snakemake; a ``--configfile`` is read by Snakemake itself before the Snakefile runs
(README.md), so this is the way to have its errors named."""

from __future__ import annotations

from pathlib import Path

from genomedl.config.files import check_input_files, read_config_file
from genomedl.config.resolve import resolve
from genomedl.config.validate import validate_config
from genomedl.console import log as console_log


def run_check_config(configfile: Path, log=console_log) -> int:
    """Check ``configfile`` as the workflow would (YAML, schema, what the schema cannot express, input files),
    without Snakemake; returns the number of datasets."""
    config = validate_config(read_config_file(configfile))
    plan = resolve(config)
    check_input_files(config)
    for notice in plan.notices:
        log(notice)
    log(
        f"check-config: {configfile}: {len(plan.datasets)} dataset(s), {len(plan.model_names)} model(s); "
        "every input file it names exists (or is written by the demo_data rule)"
    )
    return len(plan.datasets)
