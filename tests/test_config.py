"""Config validation: defaults filled, names kept inside results/ (bad config keys: test_bad_inputs.py)."""

from __future__ import annotations

import copy

import pytest
import yaml

from genomedl.config import validate_config
from genomedl.errors import GenomedlError


@pytest.fixture
def config(repo_root):
    with open(repo_root / "config" / "config.yaml") as handle:
        return yaml.safe_load(handle)


@pytest.fixture
def schema(repo_root):
    return repo_root / "workflow" / "schemas" / "config.schema.yaml"


def check(config, schema):
    try:
        validate_config(config, schema)
    except GenomedlError as exc:
        message = str(exc)
        assert "\n" not in message
        return message
    return None


def test_shipped_config_is_valid_and_defaults_are_filled(config, schema):
    del config["datasets"]["demo"]["split"]
    validate_config(config, schema)
    split = config["datasets"]["demo"]["split"]
    assert (split["val"], split["test"], split["group_by"]) == (0.15, 0.15, "locus")
    assert config["ncbi"]["offline"] is False


@pytest.mark.parametrize("name", ["../escape", "a/b", "x y"])
def test_names_cannot_escape_results(config, schema, name):
    config["datasets"][name] = copy.deepcopy(config["datasets"]["demo"])
    assert "may use only letters, digits" in check(config, schema)
