"""`genomedl profile-install`: the SLURM profile installed under its name, so `snakemake --profile slurm`
works as README says, with the site's account and partitions filled in."""

from __future__ import annotations

import os
import re

import pytest
import yaml

from genomedl.choices import GPU_RULES
from genomedl.cli import main
from helpers import REPO, copy_workflow, snakemake


def gpu_rules_of_the_workflow() -> set[str]:
    """Rules whose resources come from gpu_resources()/predict_resources(), and `use rule` copies of them."""
    rules = set()
    for path in (REPO / "workflow" / "rules").glob("*.smk"):
        for block in re.split(r"\n(?=rule |use rule )", path.read_text()):
            name = re.match(r"(?:use rule \w+ as |rule )(\w+)", block.strip())
            base = re.match(r"use rule (\w+) as", block.strip())
            if name and ("gpu_resources()" in block or "predict_resources()" in block or (base and base[1] in rules)):
                rules.add(name[1])
    return rules


def test_every_gpu_rule_gets_the_gpu_partition(tmp_path):
    assert set(GPU_RULES) == gpu_rules_of_the_workflow()
    args = ["profile-install", "slurm", "--account", "lab42", "--partition", "cpu", "--gpu-partition", "a100"]
    assert main([*args, "--dest", str(tmp_path)]) == 0
    profile = yaml.safe_load((tmp_path / "slurm" / "config.yaml").read_text())
    shipped = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["default-resources"] == {
        **shipped["default-resources"],
        "slurm_account": "lab42",
        "slurm_partition": "cpu",
    }
    assert {rule: s["slurm_partition"] for rule, s in profile["set-resources"].items()} == dict.fromkeys(
        GPU_RULES, "a100"
    )
    assert profile["set-resources"]["train"]["cpus_per_gpu"] == shipped["set-resources"]["train"]["cpus_per_gpu"]
    assert {k: v for k, v in profile.items() if "resources" not in k} == {
        k: v for k, v in shipped.items() if "resources" not in k
    }


def test_an_installed_profile_is_replaced_only_with_force(tmp_path, capsys):
    assert main(["profile-install", "slurm", "--dest", str(tmp_path)]) == 0
    assert main(["profile-install", "slurm", "--account", "x", "--dest", str(tmp_path)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert "slurm_account" not in (tmp_path / "slurm" / "config.yaml").read_text()
    assert main(["profile-install", "slurm", "--account", "x", "--dest", str(tmp_path), "--force"]) == 0
    assert "slurm_account: x" in (tmp_path / "slurm" / "config.yaml").read_text()


@pytest.mark.workflow
def test_snakemake_finds_the_profile_by_name(tmp_path, monkeypatch):
    """Before the install `--profile slurm` is refused (as users met it); after it, snakemake plans the demo."""
    (tmp_path / "wf").mkdir()
    workdir = copy_workflow(tmp_path / "wf")
    config_home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    before = snakemake(workdir, "--profile", "slurm", "-n", check=False)
    assert before.returncode != 0 and "profile" in (before.stdout + before.stderr).lower()
    assert main(["profile-install", "slurm", "--account", "lab42"]) == 0
    assert (config_home / "snakemake" / "slurm" / "config.yaml").is_file()
    after = snakemake(workdir, "--profile", "slurm", "-n", check=False)
    assert after.returncode == 0, after.stdout[-2000:] + after.stderr[-2000:]
    assert "This was a dry-run" in after.stdout + after.stderr and os.environ["XDG_CONFIG_HOME"] == str(config_home)
