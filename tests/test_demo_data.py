"""Demo data: Biopython's sdist is checksum-verified before any file is taken from it."""

from __future__ import annotations

import pytest

from genomedl.demo_data import biopython_sdist, extract_test_files
from genomedl.errors import GenomedlError
from genomedl.provenance import sha256_file
from helpers import demo_settings


def test_cached_sdist_matches_pinned_checksum():
    settings = demo_settings()
    path = biopython_sdist(settings["version"], settings["sha256"])
    assert sha256_file(path) == settings["sha256"]


def test_wrong_checksum_is_refused(tmp_path, monkeypatch):
    """A download whose sha256 differs from the pinned one is refused and never cached."""
    monkeypatch.setenv("GENOMEDL_CACHE", str(tmp_path))
    settings = demo_settings()
    with pytest.raises(GenomedlError, match="refusing to use it"):
        biopython_sdist(settings["version"], "0" * 64)
    assert not any(tmp_path.iterdir())


def test_unknown_member_is_named(tmp_path):
    settings = demo_settings()
    with pytest.raises(GenomedlError, match="GenBank/nope.gb is not in biopython-1.88"):
        extract_test_files(settings["version"], settings["sha256"], ["GenBank/nope.gb"], [tmp_path / "x"])
    assert not (tmp_path / "x").exists()
