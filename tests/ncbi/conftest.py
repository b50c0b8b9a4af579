"""Fixtures for the NCBI fetch tests: the shared real data (records and recorded responses), the fetch's log
lines, a fetch helper bound to the loopback E-utilities server (``fake`` and ``server`` in ../conftest.py)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

from helpers import EMAIL, REPO

SHARED = Path(os.environ.get("GENOMEDL_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED / "genbank" / "NG_012337.1.gb").is_file() or not (SHARED / "ncbi_responses").is_dir():
        pytest.skip(
            f"shared real data not found at {SHARED} (set GENOMEDL_SHARED_DATA to the folder "
            "holding genbank/ and ncbi_responses/)"
        )
    return SHARED


@pytest.fixture
def lines() -> list[str]:
    """Log lines written by the fetch under test."""
    return []


@pytest.fixture
def fetch(server, tmp_path, lines, monkeypatch):
    """fetch_ncbi_records bound to the fake server, a fresh cache and fast settings."""
    from genomedl.sources.ncbi.fetch import fetch_ncbi_records

    monkeypatch.delenv("NCBI_API_KEY", raising=False)
    return functools.partial(
        fetch_ncbi_records,
        cache_dir=tmp_path / "cache",
        email=EMAIL,
        base_url=server.base_url,
        offline=False,
        max_rps=100,
        timeout_s=2.0,
        max_retries=3,
        backoff_base_s=0.01,
        log=lines.append,
    )
