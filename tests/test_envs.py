"""The conda environment (envs/genomedl.yaml, every rule's) carries the same packages as pyproject.toml's
dependencies."""

from __future__ import annotations

import re

import tomllib
import yaml

CONDA_NAMES = {"torch": "pytorch"}  # PyPI name -> conda-forge name where they differ
PIP_ONLY = {"snakemake", "snakemake-executor-plugin-slurm"}  # run the workflow; not needed inside jobs


def requirement(text: str) -> tuple[str, str]:
    """('name', 'version spec') of a PEP 508 string, extras dropped."""
    match = re.match(r"^\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$", text)
    return match.group(1).lower(), match.group(3).replace(" ", "")


def test_env_matches_pyproject(repo_root):
    with open(repo_root / "pyproject.toml", "rb") as handle:
        wanted = dict(requirement(d) for d in tomllib.load(handle)["project"]["dependencies"])
    wanted = {CONDA_NAMES.get(name, name): spec for name, spec in wanted.items() if name not in PIP_ONLY}
    env_file = repo_root / "envs" / "genomedl.yaml"
    env = yaml.safe_load(env_file.read_text())
    conda = dict(requirement(d) for d in env["dependencies"] if isinstance(d, str))
    conda.pop("python"), conda.pop("pip")
    assert conda == wanted, f"{env_file.name} differs from pyproject.toml"
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e .." in pip, f"{env_file.name} must install genomedl itself"


def test_rules_use_the_one_env(repo_root):
    rules = repo_root / "workflow" / "rules"
    named = {m for f in rules.glob("*.smk") for m in re.findall(r'conda:\s*"([^"]+)"', f.read_text())}
    assert named == {"../../envs/genomedl.yaml"}
    assert sorted(p.name for p in (repo_root / "envs").glob("*.yaml")) == ["genomedl.yaml"]
