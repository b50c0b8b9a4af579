"""The report's "Predictions and variant effects" section: one entry per (input, model) predict folder.

:func:`prediction_entries` reads each folder's ``summary.json`` (and ``windows.tsv`` for a track plot
of sequences and regions); the markup is ``templates/_predictions.html.j2``.
"""

from __future__ import annotations

import os
from pathlib import Path

from genomedl import plotting
from genomedl.tables import read_json, read_tsv

MAX_TRACKS = 4  # regions or sequences drawn per input


def track_figure(windows, classes: list[str], length: int):
    """P(class) at each window centre along the first :data:`MAX_TRACKS` regions (the positive class of a
    binary model, else every class)."""
    shown = classes[1:] if len(classes) == 2 else classes
    names = list(dict.fromkeys(windows["name"]))[:MAX_TRACKS]
    fig, axes = plotting.plt.subplots(len(names), 1, figsize=(10, 1.8 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        part = windows[windows["name"] == name]
        centre = part["start"].to_numpy() + length // 2
        for c in shown:
            ax.plot(centre, part[f"p_{c}"], marker=".", label=f"P({c})")
        ax.set(ylim=(-0.02, 1.02), ylabel="probability")
        ax.set_title(
            f"{name} ({part['chrom'].iloc[0]}:{int(part['start'].min())}-{int(part['end'].max())})",
            fontsize=9,
            loc="left",
        )
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=8, loc="upper right")
    axes[-1, 0].set_xlabel("window centre (bp)")
    fig.tight_layout()
    return fig


def effect_rows(summary: dict) -> list[dict]:
    """The strongest effects: change of the class that moved most, and both windows' probabilities."""
    rows = []
    for e in summary.get("top_effects", []):
        c = e["top_class"]
        rows.append(
            {k: e[k] for k in ("chrom", "pos", "id", "ref", "alt", "status")}
            | {
                "class": c,
                "ref_p": e[f"ref_p_{c}"],
                "alt_p": e[f"alt_p_{c}"],
                "delta_p": e[f"delta_p_{c}"],
                "delta_logodds": e[f"delta_logodds_{c}"],
            }
        )
    return rows


def prediction_entries(predict_dirs: list[Path], out_html: Path) -> list[dict]:
    """Per input (in the given order), its kind, file and one entry per model; links relative to the report."""
    inputs: dict[str, dict] = {}
    for folder in map(Path, predict_dirs):
        summary = read_json(folder / "summary.json")
        entry = {
            **summary,
            "links": {
                name: Path(os.path.relpath(folder / name, Path(out_html).parent)).as_posix()
                for name in summary["outputs"]
            },
            "figure": None,
            "effects": effect_rows(summary),
        }
        if summary["kind"] == "vcf":
            entry["figure"] = plotting.data_uri(folder / "effects.png")
        elif summary["windows"]:
            windows = read_tsv(folder / "windows.tsv", dtype={"name": str, "chrom": str})
            entry["figure"] = plotting.data_uri(track_figure(windows, summary["classes"], summary["window_length"]))
        inputs.setdefault(
            folder.name,
            {
                "name": folder.name,
                "kind": summary["kind"],
                "file": summary["input"],
                "reference": summary["reference"],
                "models": [],
            },
        )["models"].append(entry)
    return list(inputs.values())
