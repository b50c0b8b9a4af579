"""Bring-your-own labelled sequences: CSV (``sequence,label`` [,id, group, split]) or FASTA with the
label in the header (``>id label=exon`` or ``>id|exon``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from ..errors import GenomedlError
from ..sequence import TOKEN_OF_BYTE, first_invalid, normalise

FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fas")
_LABEL = re.compile(r"(?:^|\s)label=(\S+)")


@dataclass
class Labelled:
    table: pd.DataFrame  # id, label, group[, split]; one row per sequence
    sequence: np.ndarray  # uint8 ASCII, all sequences joined
    offsets: np.ndarray  # int64 [n + 1]: sequence i is sequence[offsets[i]:offsets[i + 1]]
    counts: dict


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise GenomedlError(f"{path}: the file is empty; give a CSV with a header line sequence,label") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        problem = " ".join(str(exc).split())[:160]
        raise GenomedlError(f"{path}: not a valid CSV file ({problem})") from None
    table.columns = [c.strip().lower() for c in table.columns]
    missing = [c for c in ("sequence", "label") if c not in table.columns]
    if missing:
        raise GenomedlError(
            f"{path}: no column {missing[0]!r} (columns: {', '.join(table.columns)}); "
            "the header must name sequence and label"
        )
    if "id" not in table.columns:
        table["id"] = [f"{path.stem}_{i + 1}" for i in range(len(table))]
    table["line"] = [f"line {i + 2}" for i in range(len(table))]
    return table


def _read_fasta(path: Path) -> pd.DataFrame:
    rows = []
    try:
        with pysam.FastxFile(str(path)) as reader:
            for number, entry in enumerate(reader, start=1):
                found = _LABEL.search(entry.comment or "")
                name, _, tail = entry.name.rpartition("|")
                label = found.group(1) if found else tail if name else ""
                if not label:
                    raise GenomedlError(
                        f"{path}: sequence {number} ({entry.name}) has no label; write the header "
                        "as '>id label=NAME' or '>id|NAME'"
                    )
                rows.append((entry.name, label, entry.sequence or "", f"sequence {number}"))
    except (OSError, ValueError) as exc:
        raise GenomedlError(f"{path}: not a readable FASTA file ({' '.join(str(exc).split())[:160]})") from None
    return pd.DataFrame(rows, columns=["id", "label", "sequence", "line"])


def read_labelled(paths: list[str]) -> Labelled:
    """Read every file; ids must be unique, sequences non-empty IUPAC nucleotide codes."""
    tables = []
    for name in paths:
        path = Path(name)
        if not path.exists():
            raise GenomedlError(f"{path}: file not found (listed under source.labelled); fix the path")
        plain = path.name.lower().removesuffix(".gz")
        table = _read_fasta(path) if plain.endswith(FASTA_SUFFIXES) else _read_csv(path)
        if table.empty:
            raise GenomedlError(f"{path}: no sequences; the file holds no data rows")
        table["file"] = str(path)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    table["id"] = table["id"].astype(str).str.strip()
    for column in ("id", "label", "sequence"):
        empty = table[column].astype(str).str.strip() == ""
        if empty.any():
            row = table[empty].iloc[0]
            named = f" ({row['id']})" if column != "id" else ""
            raise GenomedlError(f"{row['file']}: {row['line']}{named} has no {column}; give it one or remove it")
    spaced = table["id"].str.contains(r"\s")
    if spaced.any():
        row = table[spaced].iloc[0]
        raise GenomedlError(f"{row['file']}: {row['line']}: id {row['id']!r} contains white space; remove it")
    duplicated = table["id"].duplicated(keep=False)
    if duplicated.any():
        first, second = table[duplicated & (table["id"] == table[duplicated]["id"].iloc[0])].iloc[:2].to_dict("records")
        raise GenomedlError(
            f"{second['file']}: {second['line']}: duplicate id {second['id']!r} "
            f"(first at {first['file']} {first['line']}); ids must be unique"
        )
    joined = "".join(table["sequence"].str.strip()).encode("ascii", errors="replace")
    lengths = table["sequence"].str.strip().str.len().to_numpy()
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    raw = np.frombuffer(joined, np.uint8)
    position = first_invalid(TOKEN_OF_BYTE[raw])
    if position >= 0:
        row = table.iloc[int(np.searchsorted(offsets, position, side="right") - 1)]
        column = position - offsets[table.index.get_loc(row.name)] + 1
        raise GenomedlError(
            f"{row['file']}: {row['line']} ({row['id']}): invalid character "
            f"{chr(raw[position])!r} at position {column}; sequences may contain only "
            "IUPAC nucleotide codes"
        )
    sequence, counts = normalise(joined, "labelled sequences")
    if "group" not in table.columns:
        table["group"] = table["id"]
    keep = ["id", "label", "group"] + (["split"] if "split" in table.columns else [])
    return Labelled(table[keep].reset_index(drop=True), sequence, offsets, counts)
