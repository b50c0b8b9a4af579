"""Every closed list has one home, genomedl.choices: the schema's enums and the code's tables agree with it."""

from __future__ import annotations

import pytest

from genomedl import choices
from genomedl.config import load_schema

# schema path of each enum (anyOf branches and array items left out: a setting and its sweep list share
# one list) -> the tuple of genomedl.choices it must equal
SCHEMA_ENUMS = {
    "$defs/task": "TASKS",
    "$defs/model/properties/arch": "ARCHITECTURES",
    "$defs/model/properties/optimizer": "OPTIMIZERS",
    "$defs/model/properties/schedule": "SCHEDULES",
    "$defs/model/properties/monitor": "MONITORS",
    "$defs/model/properties/init": "WEIGHT_INITS",
    "$defs/model/properties/precision": "PRECISIONS",
    "$defs/model/properties/accelerator": "ACCELERATORS",
    "$defs/model/properties/imbalance": "IMBALANCE_MODES",
    "$defs/baseline/properties/features": "BASELINE_FEATURES",
    "$defs/pretrain/properties/k": "PRETRAIN_K",
    "$defs/pretrain/properties/precision": "PRECISIONS",
    "$defs/pretrain/properties/accelerator": "ACCELERATORS",
    "$defs/pretrain/properties/attention": "ATTENTION_KERNELS",
    "$defs/interpret/properties/methods": "ATTRIBUTION_METHODS",
    "$defs/interpret/properties/motifs_from": "ATTRIBUTION_METHODS",
    "$defs/source/properties/reference/properties/format": "ANNOTATION_FORMATS",
    "$defs/predict/properties/strands": "STRANDS",
    "$defs/predict/properties/unknown_contigs": "UNKNOWN_CONTIGS",
    "$defs/window/properties/mode": "WINDOW_MODES",
    "$defs/window/properties/off_edge": "OFF_EDGE",
    "$defs/window/properties/sequences": "LABELLED_SEQUENCES",
    "$defs/window/properties/shorter": "SHORTER",
    "$defs/window/properties/longer": "LONGER",
    "$defs/split/properties/dedupe": "DEDUPE_MODES",
    "$defs/split/properties/strategy": "SPLIT_STRATEGIES",
    "$defs/split/properties/group_by": "GROUP_BY",
    "$defs/split/properties/allow": "LEAKAGE_GUARDS",
    "$defs/qc/properties/allow": "QC_PROBES",
    "$defs/dataset/properties/evaluate_on/properties/split": "TRANSFER_SPLITS",
    "$defs/demo_data/properties/archive": "DEMO_ARCHIVES",
    "$defs/interpret/properties/jaspar/properties/tax_groups": "JASPAR_GROUPS",
    "$defs/source/properties/taxon": "JASPAR_GROUPS",
}


def schema_enums(node, path=()):
    """(path without anyOf/<i> and items steps, enum) of every enum in ``node``."""
    if isinstance(node, dict):
        if "enum" in node:
            yield "/".join(path), node["enum"]
        for key, value in node.items():
            yield from schema_enums(value, path if key in ("anyOf", "items") else (*path, str(key)))
    elif isinstance(node, list):
        for value in node:
            yield from schema_enums(value, path)


ENUMS = list(schema_enums(load_schema()))


@pytest.mark.parametrize("path, enum", ENUMS, ids=[p for p, _ in ENUMS])
def test_schema_enum_is_a_choices_list(path, enum):
    assert path in SCHEMA_ENUMS, f"schema enum {path} has no list in genomedl.choices; add one and map it here"
    assert set(enum) == set(getattr(choices, SCHEMA_ENUMS[path])), path


def test_every_mapped_enum_is_in_the_schema():
    assert set(SCHEMA_ENUMS) == {path for path, _ in ENUMS}


def test_choices_are_tuples_without_repeats():
    lists = {k: v for k, v in vars(choices).items() if k.isupper()}
    assert lists and all(isinstance(v, tuple) and len(set(v)) == len(v) for v in lists.values())


def test_code_tables_are_keyed_by_the_choices():
    from genomedl.models import available
    from genomedl.stages.split import GUARDS
    from genomedl.training.engine import MONITOR_MODE
    from genomedl.training.placement import LIGHTNING_PRECISION
    from genomedl.windows.annotation import FORMATS
    from genomedl.windows.tasks import TASK_CLASSES

    assert set(TASK_CLASSES) | {"labelled"} == set(choices.TASKS)
    assert set(available()) == set(choices.ARCHITECTURES)
    assert set(MONITOR_MODE) == set(choices.MONITORS)
    assert set(LIGHTNING_PRECISION) | {"auto"} == set(choices.PRECISIONS)
    assert set(FORMATS.values()) == set(choices.ANNOTATION_FORMATS)
    assert set(GUARDS) == set(choices.LEAKAGE_GUARDS)


def test_predict_inputs_are_the_predict_kinds():
    inputs = load_schema()["$defs"]["predict"]["properties"]["inputs"]["additionalProperties"]["properties"]
    assert set(inputs) - {"reference"} == set(choices.PREDICT_KINDS)


def test_in_words():
    assert choices.in_words(("a",)) == "a"
    assert choices.in_words(("a", "b", "c")) == "a, b or c"
