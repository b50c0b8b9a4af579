"""The config: its schema (``schema.yaml``, the only place a default lives), validation with the defaults
filled in (:mod:`.validate`), sweep expansion (:mod:`.sweep`) and what the workflow builds from it
(:mod:`.resolve`). Torch-free, so the Snakefile can import it cheaply."""

from genomedl.config.resolve import Plan, resolve
from genomedl.config.validate import SCHEMA_PATH, describe, load_schema, stage_settings, validate_config

__all__ = ["SCHEMA_PATH", "Plan", "describe", "load_schema", "resolve", "stage_settings", "validate_config"]
