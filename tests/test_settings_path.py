"""The schema is the only place a default lives: stages get their settings one way (a settings JSON
validated against a schema section), and neither the CLI nor a stage function restates a default."""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
from pathlib import Path

import pytest

from genomedl.cli import DATA, STAGES, build_parser, stage_arguments
from genomedl.config import load_schema, stage_settings
from genomedl.windows.policy import WindowPolicy
from genomedl.windows.tasks import TaskOptions

SRC = Path(__file__).resolve().parents[1] / "src" / "genomedl"


def section_keys(section: str) -> set[str]:
    return set(load_schema()["$defs"][section].get("properties", {}))


def schema_properties():
    """Every (name, spec) of a ``properties`` mapping anywhere in the schema (sections, nested mappings)."""
    stack = [load_schema()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield from (node.get("properties") or {}).items()
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def all_schema_keys() -> set[str]:
    """Every property name anywhere in the schema."""
    return {key for key, _ in schema_properties()}


def runner(stage):
    module, function = stage.target.split(":")
    return getattr(importlib.import_module(f"genomedl.stages.{module}"), function)


@pytest.mark.parametrize("name", [n for n, s in STAGES.items() if s.settings])
def test_stage_functions_restate_no_default_of_their_section(name):
    stage = STAGES[name]
    keys = section_keys(stage.settings)
    defaults = {
        p.name: p.default
        for p in inspect.signature(runner(stage)).parameters.values()
        if p.default is not inspect.Parameter.empty and p.default is not None
    }
    assert not set(defaults) & keys, f"{stage.target} restates defaults of schema section {stage.settings}"
    assert "settings" in inspect.signature(runner(stage)).parameters


def test_every_cli_option_is_a_parameter_of_its_stage_function():
    """The table drives the CLI: every option reaches the function under its own name."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, stage in STAGES.items():
        params = set(inspect.signature(runner(stage)).parameters)
        dests = {a.dest for a in subparsers.choices[name]._actions if a.dest != "help"}
        dests = {d for d in dests if not d.startswith("setting:")} - set(stage.one_input)
        dests |= {"kind", "path"} if stage.one_input else set()
        if set(DATA) <= set(stage.files):  # a dataset's files reach the function as one bundle
            dests = (dests - {*DATA, "qc"}) | {"dataset"}
        assert dests <= params, f"{name}: {sorted(dests - params)} are not parameters of {stage.target}"


def test_cli_settings_flags_have_no_default_and_reach_settings():
    parser = build_parser()
    args = parser.parse_args(["predict", "--model-dir", "m", "--out-dir", "o", "--fasta", "x.fa", "--top", "3"])
    kwargs = stage_arguments(args)
    assert kwargs["settings"] == {"top": 3} and kwargs["kind"] == "fasta" and kwargs["path"] == Path("x.fa")
    assert (
        stage_settings("predict", kwargs["settings"])["batch_size"]
        == load_schema()["$defs"]["predict"]["properties"]["batch_size"]["default"]
    )
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, stage in STAGES.items():
        if not stage.settings:
            continue
        keys = section_keys(stage.settings)
        for action in subparsers.choices[name]._actions:
            if action.dest.startswith("setting:") or action.dest in keys:
                assert action.default in (None, argparse.SUPPRESS), f"genomedl {name} {action.option_strings}"


def test_no_settings_lookup_with_a_fallback_for_a_schema_key():
    """``settings.get("lr", 1e-3)`` would be a second home for a default: none in the package."""
    keys, found = all_schema_keys(), []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and len(node.args) == 2
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value in keys
                and not (isinstance(node.args[1], ast.Constant) and node.args[1].value is None)
                and "settings" in ast.unparse(node.func.value)
            ):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("cls, section", [(WindowPolicy, "window"), (TaskOptions, "task_options")])
def test_defaults_of_settings_classes_are_the_schemas(cls, section):
    """Classes built from a section take their defaults from the schema, so the two cannot drift."""
    schema_defaults = stage_settings(section, {})
    defaults = {
        p.name: p.default
        for p in inspect.signature(cls).parameters.values()
        if p.default is not inspect.Parameter.empty and p.name in schema_defaults
    }
    assert defaults and all(defaults[k] == schema_defaults[k] for k in defaults), defaults


def schema_defaults() -> dict[str, list]:
    """Every property of the schema with a default (not null): name -> the defaults it has in any section."""
    found: dict[str, list] = {}
    for key, spec in schema_properties():
        if isinstance(spec, dict) and spec.get("default") is not None:
            found.setdefault(key, []).append(spec["default"])
    return found


# Parameters whose default equals a schema default of the same name without standing for that setting: the
# architectures' hyperparameters (their constructor is their one home: the schema has none), a DataLoader's own
# default, and a batch of the embed stage (which has no batch-size setting).
NOT_SETTINGS = {("models/", "__init__"), ("data/loaders.py", "loader"), ("stages/embed.py", "encoder_embeddings")}


def test_no_public_function_restates_a_schema_default():
    """``def f(batch_size=256)`` where the schema's default of batch_size is 256 would be a second home for it:
    none in the package (every public function and constructor, read from the source)."""
    defaults, found = schema_defaults(), []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef) or (node.name.startswith("_") and node.name != "__init__"):
                continue
            if any(relative.startswith(place) and node.name == name for place, name in NOT_SETTINGS):
                continue
            args = node.args
            positional = args.posonlyargs + args.args
            pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults))
            pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
            for arg, default in pairs:
                try:
                    value = ast.literal_eval(default)
                except ValueError:
                    continue
                value = list(value) if isinstance(value, tuple) else value
                if arg.arg in defaults and value in defaults[arg.arg]:
                    found.append(f"{relative}:{node.lineno}: {node.name}({arg.arg}={ast.unparse(default)})")
    assert not found, "\n".join(found)


def test_a_bad_setting_names_its_config_key():
    with pytest.raises(Exception, match=r"config key models\.cnn\.lr: 'fast' is not a number"):
        stage_settings("model", {"arch": "cnn", "lr": "fast"}, "models.cnn")
