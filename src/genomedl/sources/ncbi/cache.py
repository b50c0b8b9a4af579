"""On-disk cache of NCBI answers; every file is written atomically, records are checked on read.

Layout under ``cache_dir``::

    nuccore/<key>.gb              one validated GenBank record (key: accession.version, or a region)
    nuccore/<key>.json            sidecar: sha256 of the .gb, retrieved_at, organism, taxon, gene
    nuccore/unversioned/<acc>.json   {"accession_version": ...} pinned on first download
    gene/<gene_id>.json           Gene summary and the record keys linked to it
    gene/symbol/<taxon>_<SYMBOL>.json   {"gene_id": ...}
    query/<sha256>.json           a query's term, uids and record keys
    .ratelimit                    time of the last request, shared by processes (see ratelimit.py)
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict
from pathlib import Path

from genomedl.atomic import atomic_write
from genomedl.sources.ncbi.records import CheckedRecord

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Cache:
    """Files under ``root``; see the module docstring for the layout."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def lock_path(self) -> Path:
        return self.root / ".ratelimit"

    def _record_paths(self, key: str) -> tuple[Path, Path]:
        base = self.root / "nuccore" / _safe(key)
        return base.with_name(base.name + ".gb"), base.with_name(base.name + ".json")

    def load_record(self, key: str) -> tuple[str, dict] | None:
        """``(text, sidecar)`` for a cached record, or None when absent or not matching its sidecar."""
        text_path, meta_path = self._record_paths(key)
        meta = self._read_json(meta_path)
        if meta is None or not text_path.is_file():
            return None
        text = text_path.read_text()
        return (text, meta) if sha256(text) == meta.get("sha256") else None

    def save_record(self, key: str, record: CheckedRecord, retrieved_at: str) -> dict:
        """Store a record, then its sidecar (the sidecar makes it count as cached); return the sidecar."""
        text_path, meta_path = self._record_paths(key)
        meta = {name: value for name, value in asdict(record).items() if name != "text"}
        meta.update(key=key, sha256=sha256(record.text), retrieved_at=retrieved_at)
        known = self._read_json(meta_path)
        if known and known.get("sha256") == meta["sha256"]:  # same record again: keep its first date
            meta["retrieved_at"] = known.get("retrieved_at", retrieved_at)
        with atomic_write(text_path) as handle:
            handle.write(record.text)
        self._write_json(meta_path, meta)
        return meta

    def load_json(self, kind: str, name: str) -> dict | None:
        return self._read_json(self.root / kind / f"{_safe(name)}.json")

    def save_json(self, kind: str, name: str, data: dict) -> None:
        self._write_json(self.root / kind / f"{_safe(name)}.json", data)

    @staticmethod
    def _read_json(path: Path) -> dict | None:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    @staticmethod
    def _write_json(path: Path, data: dict) -> None:
        with atomic_write(path) as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
            handle.write("\n")
