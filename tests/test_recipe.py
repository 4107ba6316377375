"""Recipes are validated before any media is opened; errors name the file, line, op and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidcurate import recipe
from vidcurate.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_recipes_validate() -> None:
    for path in sorted((ROOT / "recipes").glob("*.yaml")):
        assert recipe.load(path).ops, path


def test_unknown_op_names_the_line() -> None:
    text = "ops:\n  - probe: {}\n  - teleport: {}\n"
    with pytest.raises(ConfigError, match=r"<recipe>:3: unknown op 'teleport'"):
        recipe.parse(text)


def test_unknown_key_names_the_op_key_and_its_line() -> None:
    text = "ops:\n  - probe: {}\n  - select:\n      where: 'fps > 1'\n      wher: 'x'\n"
    with pytest.raises(ConfigError, match=r"<recipe>:5: op 'select': unknown key 'wher'"):
        recipe.parse(text)


def test_bad_value_type_names_op_and_key() -> None:
    with pytest.raises(ConfigError, match=r":2: op 'probe': key 'exact_frames': expected bool"):
        recipe.parse("ops:\n  - probe: {exact_frames: 'yes please'}\n")


def test_unknown_top_level_key_and_bad_workers_are_rejected() -> None:
    with pytest.raises(ConfigError, match="unknown key 'opps'"):
        recipe.parse("opps: []\n")
    with pytest.raises(ConfigError, match="'workers' must be a positive integer"):
        recipe.parse("workers: 0\nops:\n  - probe: {}\n")


def test_invalid_yaml_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        recipe.parse("ops: [probe: {\n")
