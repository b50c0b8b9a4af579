"""Groups of reference sequences, each extracted by its own job (scatter over a cluster, gather after).

Torch- and pysam-free: the workflow's plan reads the FASTA index (``.fai``) to know the groups.
"""

from __future__ import annotations

from pathlib import Path

from genomedl.errors import GenomedlError


def fai_lengths(fasta: str | Path) -> list[tuple[str, int]]:
    """(name, length in bp) of every sequence in the ``.fai`` index beside ``fasta``, in file order."""
    fai = Path(f"{fasta}.fai")
    rows = []
    with open(fai) as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 5 or not fields[1].isdigit():
                raise GenomedlError(f"{fai}: line {number} is not a FASTA index line; re-create it (samtools faidx)")
            rows.append((fields[0], int(fields[1])))
    return rows


def sequence_groups(fasta: str | Path, group_bp: int) -> list[list[str]]:
    """Names of the indexed ``fasta``'s sequences in file order, packed into consecutive groups of at most
    ``group_bp`` bp; a sequence longer than that is a group of its own."""
    groups: list[list[str]] = []
    size = group_bp
    for name, length in fai_lengths(fasta):
        if size + length > group_bp:
            groups.append([])
            size = 0
        groups[-1].append(name)
        size += length
    return groups
