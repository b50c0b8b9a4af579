"""The engine keys of a models entry, as the schema marks them (``x-engine`` on the properties of section
``model``): ``module`` settings go to the Lightning module, ``run`` settings shape the run around it; every other
key of an entry is a hyperparameter of its architecture. Torch-free."""

from __future__ import annotations

from genomedl.config.validate import load_schema

_MARKS = {key: spec.get("x-engine") for key, spec in load_schema()["$defs"]["model"]["properties"].items()}
MODULE_KEYS = frozenset(k for k, mark in _MARKS.items() if mark == "module")
ENGINE_KEYS = frozenset(k for k, mark in _MARKS.items() if mark)
