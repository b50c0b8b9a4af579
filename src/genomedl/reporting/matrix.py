"""The index page's dataset x model matrix: each dataset's ranking metric per model (from its report's
leaderboard.tsv), its winner marked."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from genomedl.tables import read_tsv


def metric_matrix(leaderboards: dict[str, Path]) -> dict:
    """``models`` (columns, in order of first appearance) and one row per dataset: ``dataset``, ``metric`` (the
    leaderboard's ``ranked_by``), ``winner`` and ``cells`` {model: (value, low, high)}; a model a dataset lacks
    has no cell."""
    models: dict[str, None] = {}
    rows = []
    for dataset, path in leaderboards.items():
        table = read_tsv(path).sort_values("rank")
        metric = table["ranked_by"].iloc[0]
        columns = [metric, f"{metric}_ci_low", f"{metric}_ci_high"]
        values = table[columns].apply(pd.to_numeric, errors="coerce").astype(object)  # empty cells: undefined
        values = values.where(values.notna(), None)
        cells = {m: tuple(v) for m, v in zip(table["model"], values.itertuples(index=False))}
        models.update(dict.fromkeys(cells))
        best = table["model"].iloc[0]
        winner = best if cells[best][0] is not None else None
        rows.append({"dataset": dataset, "metric": metric, "winner": winner, "cells": cells})
    return {"models": list(models), "rows": rows}
