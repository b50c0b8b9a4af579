"""The local-files source: GenBank flat files on disk (plain or gzip-compressed)."""

from __future__ import annotations

import datetime as dt
import gzip
from dataclasses import dataclass
from pathlib import Path

from genomedl.errors import GenomedlError
from genomedl.sources.genbank_text import first_lines, parse_record, split_records
from genomedl.sources.manifest import manifest_row


@dataclass
class LocalRecord:
    text: str
    row: dict


def _taxon_id(record) -> str:
    for feature in record.features:
        if feature.type == "source":
            for xref in feature.qualifiers.get("db_xref", []):
                if xref.startswith("taxon:"):
                    return xref.split(":", 1)[1]
    return ""


def read_text(path: Path) -> str:
    """Read a plain or gzip-compressed text file as UTF-8 (undecodable bytes become U+FFFD)."""
    if not path.exists():
        raise GenomedlError(f"{path}: file not found (listed under source.local); fix the path")
    opener = gzip.open if path.read_bytes()[:2] == b"\x1f\x8b" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        return handle.read()


def read_local_genbank(paths: list[str], log=None) -> list[LocalRecord]:
    """Read every record of every file; ``retrieved_at`` is the file's modification time (UTC)."""
    out = []
    for name in paths:
        path = Path(name)
        text = read_text(path)
        mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
        texts = split_records(text, str(path))
        for number, (record_text, line) in enumerate(zip(texts, first_lines(texts)), start=1):
            record = parse_record(record_text, str(path), number, log, line)
            row = manifest_row(
                accession_version=record.id,
                text=record_text,
                source="local",
                query=str(path),
                retrieved_at=mtime.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
                taxon_id=_taxon_id(record),
                organism=record.annotations.get("organism", ""),
                lineage="; ".join(record.annotations.get("taxonomy", [])),
            )
            out.append(LocalRecord(record_text, row))
    return out
