"""Install a Snakemake profile of genomedl under its name, so that ``snakemake --profile slurm`` works as written.

Snakemake finds a profile given by name in ``$XDG_CONFIG_HOME/snakemake/<name>/`` (``~/.config/snakemake``
by default). The source stays the repository's ``profiles/<name>/config.yaml`` (shipped in the package as
``genomedl/profiles/<name>.yaml``); installing it fills in the site's account and partitions.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from genomedl.atomic import atomic_write
from genomedl.choices import GPU_RULES
from genomedl.errors import GenomedlError

SOURCES = Path(__file__).parents[1] / "profiles"


def profile_home(env=os.environ) -> Path:
    """Where Snakemake looks for profiles named on the command line: ``$XDG_CONFIG_HOME/snakemake``."""
    return Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "snakemake"


def site_profile(name: str, account: str | None, partition: str | None, gpu_partition: str | None) -> dict:
    """The profile ``name`` with ``slurm_account`` / ``slurm_partition`` set for every job and, for the GPU
    rules (:data:`~genomedl.choices.GPU_RULES`), ``gpu_partition``; options left out stay as shipped."""
    profile = yaml.safe_load((SOURCES / f"{name}.yaml").read_text())
    if name != "slurm" and (account or partition or gpu_partition):
        raise GenomedlError(f"profile {name}: --account and the partitions apply to the slurm profile only")
    defaults = profile.setdefault("default-resources", {})
    if account:
        defaults["slurm_account"] = account
    if partition:
        defaults["slurm_partition"] = partition
    if gpu_partition:
        for rule in GPU_RULES:
            profile.setdefault("set-resources", {}).setdefault(rule, {})["slurm_partition"] = gpu_partition
    return profile


def install_profile(
    profile: str,
    account: str | None = None,
    partition: str | None = None,
    gpu_partition: str | None = None,
    dest: Path | None = None,
    force: bool = False,
    log=print,
) -> Path:
    """Write profile ``profile`` to ``dest/<profile>/config.yaml`` (``dest``: :func:`profile_home`); returns
    the file. An existing profile of that name is replaced only with ``force``."""
    target = Path(dest or profile_home()) / profile / "config.yaml"
    if target.exists() and not force:
        raise GenomedlError(f"{target} exists; pass --force to replace it, or --dest to install elsewhere")
    settings = site_profile(profile, account, partition, gpu_partition)
    with atomic_write(target) as handle:
        handle.write(f"# genomedl's profiles/{profile}/config.yaml, installed by `genomedl profile-install`.\n")
        yaml.safe_dump(settings, handle, sort_keys=False)
    log(f"profile-install: {target}; run `snakemake --profile {profile}` in the genomedl workflow folder")
    return target
