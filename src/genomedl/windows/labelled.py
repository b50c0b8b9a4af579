"""Bring-your-own labelled sequences: CSV/TSV (``sequence,label`` [,id, group, split]) or FASTA with the
label in the header (``>id label=exon`` or ``>id|exon``).

CSV/TSV: delimiter ``,`` ``;`` or tab (``.tsv``/``.tab`` by extension, else sniffed from the header line),
UTF-8 with or without BOM, quoted fields, CRLF, gzip recognised by content. Labels are strings, stripped;
RNA ``U`` becomes ``T`` (counted). Predefined splits: a ``split`` column, or files named by their split
(``train.csv``, ``dev.csv``, ``test.csv``...); blank or unknown split values stop the run.
"""

from __future__ import annotations

import gzip
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from genomedl.errors import GenomedlError
from genomedl.sequence import TOKEN_OF_BYTE, first_invalid, normalise
from genomedl.splits.strategies import PREDEFINED_NAMES

FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fas")
TAB_SUFFIXES = (".tsv", ".tab", ".txt")
DELIMITERS = (",", ";", "\t")
_LABEL = re.compile(r"(?:^|\s)label=(\S+)")
_U = np.frombuffer(b"Uu", np.uint8)


@dataclass
class Labelled:
    table: pd.DataFrame  # id, label, group, file, line[, split]; one row per sequence
    sequence: np.ndarray  # uint8 ASCII, all sequences joined
    offsets: np.ndarray  # int64 [n + 1]: sequence i is sequence[offsets[i]:offsets[i + 1]]
    counts: dict


def warn(message: str) -> None:
    """One warning line on stderr."""
    print(f"warning: {message}", file=sys.stderr)


def _text(path: Path) -> str:
    """The file's text: gunzipped when its content is gzip, UTF-8 (a BOM is dropped)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise GenomedlError(f"{path}: a broken gzip file ({exc}); compress it again") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GenomedlError(not_utf8(path, data, exc.start)) from None


def not_utf8(path: Path, data: bytes, at: int) -> str:
    """The line for ``data`` (the bytes of ``path``) whose first byte that is not UTF-8 is at offset ``at``:
    its line and column (in characters), the byte, and what it would be in Latin-1."""
    start = data.rfind(b"\n", 0, at) + 1
    line, column = data.count(b"\n", 0, at) + 1, len(data[start:at].decode("utf-8-sig")) + 1
    byte = data[at : at + 1]
    return (
        f"{path}: line {line}, column {column}: not UTF-8 text (byte 0x{byte[0]:02x}, {byte.decode('latin-1')!r} "
        f"in Latin-1); save it as UTF-8 (e.g. iconv -f latin1 -t utf-8 {path} > utf8-{path.name})"
    )


def _delimiter(path: Path, text: str) -> str:
    """Tab for .tsv/.tab/.txt, else the most frequent of , ; tab in the header line."""
    if path.name.lower().removesuffix(".gz").endswith(TAB_SUFFIXES):
        return "\t"
    header = text.split("\n", 1)[0]
    return max(DELIMITERS, key=header.count)


def _read_csv(path: Path, text: str) -> pd.DataFrame:
    if not text.strip():
        raise GenomedlError(f"{path}: the file is empty; give a CSV with a header line sequence,label")
    try:
        table = pd.read_csv(
            io.StringIO(text), sep=_delimiter(path, text), dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except pd.errors.ParserError as exc:
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


def _split_of_file(path: Path) -> str | None:
    """``train``/``val``/``test`` when the file is named by its split (``dev.csv.gz`` -> val), else None."""
    stem = path.name.lower().split(".")[0]
    return PREDEFINED_NAMES.get(stem)


def _check_splits(table: pd.DataFrame) -> None:
    """Every row must name a known split once any row does; one line naming the file and line otherwise."""
    if "split" not in table.columns:
        return
    values = table["split"].fillna("").astype(str).str.strip()
    bad = ~values.str.lower().isin(list(PREDEFINED_NAMES))
    if bad.any():
        row, value = table[bad].iloc[0], values[bad].iloc[0]
        what = "no split value" if not value else f"unknown split {value!r}"
        raise GenomedlError(
            f"{row['file']}: {row['line']} ({row['id']}) has {what}; write train, val (or valid/dev) or test "
            "in every row, or remove the split column"
        )
    table["split"] = values


def _warn_case_clashes(labels: pd.Series) -> None:
    """Warn (stderr) about labels that differ only in case: they stay separate classes."""
    names = pd.Series(sorted(set(labels)))
    for _, same in names.groupby(names.str.lower()):
        if len(same) > 1:
            warn(f"labels {', '.join(map(repr, same))} differ only in case; they are kept as separate classes")


def read_labelled(paths: list[str]) -> Labelled:
    """Read every file; ids must be unique, sequences non-empty IUPAC nucleotide codes (U read as T)."""
    tables = []
    for name in paths:
        path = Path(name)
        if not path.exists():
            raise GenomedlError(f"{path}: file not found (listed under source.labelled); fix the path")
        plain = path.name.lower().removesuffix(".gz")
        if plain.endswith(FASTA_SUFFIXES):
            table = _read_fasta(path)
        else:
            text = _text(path)
            table = _read_fasta(path) if text.lstrip().startswith(">") else _read_csv(path, text)
        if table.empty:
            raise GenomedlError(f"{path}: no sequences; the file holds no data rows")
        table["file"] = str(path)
        if "split" not in table.columns and _split_of_file(path):
            table["split"] = _split_of_file(path)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    _check_splits(table)
    table["id"] = table["id"].astype(str).str.strip()
    table["label"] = table["label"].astype(str).str.strip()
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
    raw = np.frombuffer(joined, np.uint8).copy()
    is_u = np.isin(raw, _U)
    raw[is_u] -= 1  # U -> T, u -> t
    joined = raw.tobytes()
    lengths = table["sequence"].str.strip().str.len().to_numpy()
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
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
    counts["u_to_t"] = int(is_u.sum())
    if "group" not in table.columns:
        table["group"] = table["id"]
    _warn_case_clashes(table["label"])
    keep = ["id", "label", "group", "file", "line"] + (["split"] if "split" in table.columns else [])
    return Labelled(table[keep].reset_index(drop=True), sequence, offsets, counts)
