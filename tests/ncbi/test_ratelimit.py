"""The request rate the server sees stays within the limit, in one process and across processes."""

from __future__ import annotations

import multiprocessing

import pytest

from genomedl.sources.ncbi.ratelimit import default_rps


def busiest_second(times: list[float]) -> int:
    """Most requests that fall in any window of one second."""
    times = sorted(times)
    return max(sum(1 for u in times[i:] if u - t < 1.0) for i, t in enumerate(times))


def test_default_limits_follow_ncbi():
    assert default_rps(None) == 3 and default_rps("") == 3 and default_rps("key") == 10


def test_one_process_stays_under_max_rps(fetch, fake):
    fetch({"genes": [{"symbol": s, "taxon": 9606} for s in ("SDHD", "BRCA2", "PCCB", "OPN1LW")]}, max_rps=8)
    times = [s.time for s in fake.seen()]
    assert len(times) >= 12
    assert busiest_second(times) <= 8
    assert max(times) - min(times) >= (len(times) - 1) / 8


@pytest.mark.parametrize(("api_key", "rps"), [(None, 3), ("k3y", 10)])
def test_without_max_rps_the_ncbi_limit_applies(fetch, fake, api_key, rps):
    fetch({"genes": [{"symbol": "SDHD", "taxon": 9606}]}, max_rps=None, api_key=api_key)
    times = sorted(s.time for s in fake.seen())
    assert len(times) == 5
    assert busiest_second(times) <= rps
    assert times[-1] - times[0] >= 4 / rps  # paced, not just under a loose bound


def _child(fetch, genes, errors):
    try:
        fetch({"genes": [{"symbol": s, "taxon": 9606} for s in genes]}, max_rps=5)
    except Exception as exc:  # reported to the parent, which fails the test
        errors.put(repr(exc))


def test_two_processes_share_one_limit(fetch, fake):
    context = multiprocessing.get_context("fork")
    errors = context.Queue()
    children = [
        context.Process(target=_child, args=(fetch, genes, errors)) for genes in (("SDHD", "BRCA2"), ("PCCB", "OPN1LW"))
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert errors.empty() and all(child.exitcode == 0 for child in children)
    seen = fake.seen()
    assert {s.params.get("id") for s in seen if s.util == "efetch"} == {
        "NG_012337.1,NG_012772.1",
        "NG_008939.1,NG_009105.1",
    }
    first = {s.params["term"].split("[")[0]: s.time for s in reversed(seen) if s.util == "esearch"}
    last = {s.params["id"]: s.time for s in seen if s.util == "efetch"}
    assert first["SDHD"] < last["NG_008939.1,NG_009105.1"] and first["PCCB"] < last["NG_012337.1,NG_012772.1"]
    times = [s.time for s in seen]
    assert len(times) == 16
    assert busiest_second(times) <= 5
