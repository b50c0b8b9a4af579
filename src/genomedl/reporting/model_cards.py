"""The report's "Model cards" section: one entry per exported model, read from its model_card.json."""

from __future__ import annotations

import os
from pathlib import Path

from genomedl.tables import read_json

SHOWN = ("auroc", "auprc", "mcc", "balanced_accuracy")


def card_entries(cards: list[Path], out_html: Path) -> list[dict]:
    """Per card: the card itself, the headline test metrics and links to its files relative to the report."""
    entries = []
    for path in cards:
        card = read_json(path)
        folder = Path(os.path.relpath(Path(path).parent, Path(out_html).parent)).as_posix()
        entries.append(
            {
                "card": card,
                "metrics": {k: card["metrics"]["values"][k] for k in SHOWN if k in card["metrics"]["values"]},
                "links": {name: f"{folder}/{name}" for name in ("model_card.json", "model_card.md", *card["files"])},
            }
        )
    return entries
