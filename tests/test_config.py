"""Config validation: defaults filled, every problem one line naming the key."""

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
    assert (split["val"], split["test"], split["group_by"]) == (0.15, 0.15, "record")
    assert config["ncbi"]["offline"] is False


def test_unknown_key_is_named(config, schema):
    config["datasets"]["demo"]["window"]["lenght"] = 100
    message = check(config, schema)
    assert message.startswith("config key datasets.demo.window: unknown key 'lenght'")
    assert "length" in message


def test_wrong_type_is_named(config, schema):
    config["datasets"]["demo"]["window"]["length"] = "long"
    assert check(config, schema).startswith("config key datasets.demo.window.length: 'long' is not of type")


def test_missing_required_key_is_named(config, schema):
    del config["datasets"]["demo"]["task"]
    assert "'task' is a required property" in check(config, schema)


@pytest.mark.parametrize("name", ["../escape", "a/b", "x y"])
def test_names_cannot_escape_results(config, schema, name):
    config["datasets"][name] = copy.deepcopy(config["datasets"]["demo"])
    assert "may use only letters, digits" in check(config, schema)
