"""Config validation against the schema (``genomedl/config/schema.yaml``), with defaults filled in.

The schema is the only place a default lives: the workflow's config is validated whole
(:func:`validate_config`), and each stage validates the section it is handed (:func:`stage_settings`),
so a stage run by hand gets the same defaults as one run by Snakemake.

Every problem becomes one line that names the config key, e.g.
``config key datasets.demo.window.length: 'abc' is not an integer; correct it (see config/README.md)``.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import jsonschema
import yaml

from genomedl.errors import GenomedlError

ARCH_DEFAULTS = "x-arch-defaults"  # schema keyword of $defs/model: architecture -> defaults that replace the generic


def _defaults(props: dict, schema: dict, instance: dict) -> dict:
    """The defaults of an object's properties; in a models entry, those of its ``arch`` (``x-arch-defaults``)
    replace the generic ones. With several architectures (a sweep over ``arch``) a default that depends on the
    architecture is left out here and filled per sweep member (:func:`arch_defaults`)."""
    out = {name: sub["default"] for name, sub in props.items() if "default" in sub}
    by_arch, arch = schema.get(ARCH_DEFAULTS, {}), instance.get("arch")
    if isinstance(arch, str):
        out.update(by_arch.get(arch, {}))
    elif isinstance(arch, list):
        for key in {key for name in arch if isinstance(name, str) for key in by_arch.get(name, {})}:
            out.pop(key, None)
    return out


def arch_defaults(arch: str) -> dict:
    """Every default of a models entry of architecture ``arch`` (generic, replaced by its x-arch-defaults)."""
    return stage_settings("model", {"arch": arch})


def _with_defaults(validator_class):
    """A validator that also writes each property's ``default`` into the instance."""
    check_properties = validator_class.VALIDATORS["properties"]

    def properties(validator, props, instance, schema):
        if isinstance(instance, dict):
            for name, value in _defaults(props, schema, instance).items():
                if name not in instance:
                    instance[name] = yaml.safe_load(yaml.safe_dump(value))
        yield from check_properties(validator, props, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": properties})


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


_KINDS = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of keys",
    "null": "empty",
}


def _expected(schema: dict) -> str:
    """What ``schema`` accepts, in words: 'one of a, b', 'an integer', 'a number or a list'."""
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    if "anyOf" in schema or "oneOf" in schema:
        return " or ".join(_expected(s) for s in schema.get("anyOf", schema.get("oneOf")))
    kinds = schema.get("type", [])
    return " or ".join(_KINDS.get(k, k) for k in ([kinds] if isinstance(kinds, str) else kinds)) or "valid"


def describe(error: jsonschema.ValidationError) -> str:
    """One line for a schema error, naming the key and the fix."""
    key = _key(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"config key {key}: unknown key {', '.join(map(repr, unknown))}{hint}; remove or correct it"
    if error.validator == "required":
        return f"config key {key}: {error.message}; add it (see config/README.md)"
    if error.validator == "pattern" and "propertyNames" in error.schema_path:
        return f"config key {key}: name {error.instance!r} may use only letters, digits, '_' and '-'"
    problem = (
        f"{error.instance!r} is not {_expected(error.schema)}"
        if error.validator in ("type", "enum", "anyOf", "oneOf")
        else error.message
    )
    return f"config key {key}: {problem}; correct it (see config/README.md)"


SCHEMA_PATH = Path(__file__).with_name("schema.yaml")


@functools.cache
def load_schema(path: str | Path = SCHEMA_PATH) -> dict:
    """The config schema (a JSON Schema, draft 2020-12) as a dict; do not modify it."""
    with open(path) as handle:
        return yaml.safe_load(handle)


def _validate(instance, schema: dict, prefix: tuple = ()) -> None:
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    errors = sorted(
        validator.iter_errors(instance), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path)))
    )
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        error.path.extendleft(reversed(prefix))
        raise GenomedlError(describe(error))


def validate_config(config: dict, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Validate ``config`` in place (defaults added); raise GenomedlError with one line on the first problem."""
    _validate(config, load_schema(schema_path))
    return config


def stage_settings(section: str, settings: dict | None, key: str | None = None) -> dict:
    """A copy of ``settings`` validated against ``$defs/<section>`` of the schema, with its defaults filled in.

    ``key`` is where the section sits in a config (e.g. ``models.cnn``), for the error line; ``required``
    keys of the section are not enforced here (a stage may be handed part of a section by hand).
    """
    schema = load_schema()
    sub = {k: v for k, v in schema["$defs"][section].items() if k != "required"}
    settings = copy.deepcopy(settings or {})
    _validate(settings, {**sub, "$defs": schema["$defs"]}, tuple(key.split(".")) if key else (section,))
    return settings
