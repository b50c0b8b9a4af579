"""The API key reaches NCBI but no log line, error message or cache file."""

from __future__ import annotations

import logging

import pytest

from genomedl.errors import GenomedlError

KEY = "a1b2c3d4e5SECRET+/="  # characters that URL-encoding changes


def test_key_is_sent_but_never_shown(fetch, fake, lines, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    clones = fake.add_clones(250)  # long id lists go by POST, with the key in the body
    fetch({"accessions": ["NG_012337", *clones], "genes": [{"symbol": "SDHD", "taxon": 9606}]}, api_key=KEY)
    fake.add_fault("efetch", "status", code=503, times=99)
    with pytest.raises(GenomedlError) as failed:
        fetch({"accessions": ["NM_004006.2"]}, api_key=KEY, log=None)  # the module's logger
    with pytest.raises(GenomedlError) as missing:
        fake.faults.clear()
        fetch({"accessions": ["NX_999999.1"]}, api_key=KEY)

    seen = fake.seen()
    assert {"POST", "GET"} <= {s.method for s in seen}
    assert all(s.params.get("api_key") == KEY for s in seen)
    shown = "\n".join([*lines, caplog.text, str(failed.value), str(missing.value)])
    assert "ncbi: GET" in shown and "ncbi: POST" in shown and "retry" in caplog.text
    for form in (KEY, "a1b2c3d4e5SECRET%2B%2F%3D", "a1b2c3d4e5SECRET"):
        assert form not in shown
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            assert b"SECRET" not in path.read_bytes(), path


def test_key_comes_from_the_environment(fetch, fake, monkeypatch, lines):
    monkeypatch.setenv("NCBI_API_KEY", KEY)
    fetch({"accessions": ["NG_012337.1"]})
    assert fake.seen()[0].params["api_key"] == KEY
    assert not any("SECRET" in line for line in lines)
