"""The report's "Quality gate" section: the qc stage's probes and near-duplicate leakage, each with its
verdict, the shortcut probes placed beside the best model's test AUROC."""

from __future__ import annotations

from genomedl.probes.gate import PROBE_TITLES
from genomedl.tables import read_json


def qc_entries(path, leaderboard: list[dict]) -> dict:
    """qc.json with ``rows`` (one per probe: title, figure, interval, limits, verdict) and ``best`` (the
    leaderboard's model of highest test AUROC, or None)."""
    qc = read_json(path)
    scored = [r for r in leaderboard if r.get("auroc") is not None]
    best = max(scored, key=lambda r: r["auroc"], default=None)
    verdicts = qc.get("verdicts", {})
    rows = [
        {
            "probe": name,
            "title": PROBE_TITLES[name],
            "auroc": p["auroc"],
            "ci": p["ci"],
            "warn": p["warn"],
            "fail": p["fail"],
            "verdict": verdicts.get(name, p["verdict"]),
        }
        for name, p in ((n, qc["probes"][n]) for n in PROBE_TITLES if n in qc.get("probes", {}))
    ]
    return {**qc, "rows": rows, "best": best}
