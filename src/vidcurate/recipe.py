"""Recipes: YAML -> validated ops, before any media is opened.

```yaml
name: default
workers: 2
ops:
  - probe: {}
  - select: {where: "duration >= 2"}
```
Every error names the recipe file, the line, the op and the key.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vidcurate.errors import ConfigError
from vidcurate.ops.base import build

TOP_KEYS = {"name", "description", "input", "output", "workers", "shard_size", "ops"}


@dataclass
class Recipe:
    """A validated recipe: op specs plus run defaults."""

    name: str
    ops: list[tuple[str, dict[str, Any]]]
    path: Path | None = None
    description: str = ""
    input: str | None = None
    output: str | None = None
    workers: int | None = None
    shard_size: int = 8
    lines: list[int] = field(default_factory=list)


SHIPPED = Path(__file__).with_name("recipes")
"""The recipes installed with the package; `vidcurate run default` names one."""


def shipped() -> dict[str, Path]:
    """Shipped recipes by name (the file stem)."""
    return {p.stem: p for p in sorted(SHIPPED.glob("*.yaml"))}


def load(path: str | Path, sets: list[str] | None = None) -> Recipe:
    """Parse and validate a recipe file, or a shipped recipe by name, with `op.key=value` overrides."""
    path = Path(path)
    if not path.is_file():
        found = shipped().get(str(path))
        if found is None:
            names = ", ".join(shipped())
            raise ConfigError(f"recipe {path} does not exist (no such file, and the shipped recipes are {names})")
        path = found
    return override(parse(path.read_text(encoding="utf-8"), str(path)), sets or [])


def override(recipe: Recipe, sets: list[str]) -> Recipe:
    """The recipe with `op.key=value` overrides applied (`op#2.key=value` for the second op of that name);
    values are YAML; each changed op is validated again, so a bad value names the op and the key."""
    import yaml

    ops = [(name, dict(params)) for name, params in recipe.ops]
    for item in sets:
        target, sep, text = item.partition("=")
        name, dot, key = target.strip().partition(".")
        if not sep or not dot or not key:
            raise ConfigError(f"--set {item!r}: expected op.key=value (or op#N.key=value)")
        name, _, nth = name.partition("#")
        matches = [i for i, (op, _) in enumerate(ops) if op == name]
        if not matches:
            raise ConfigError(f"--set {item!r}: the recipe has no op '{name}'")
        if not nth and len(matches) > 1:
            raise ConfigError(f"--set {item!r}: the recipe has {len(matches)} '{name}' ops; say which with "
                              f"{name}#1.{key} .. {name}#{len(matches)}.{key}")
        if nth and not (nth.isdigit() and 1 <= int(nth) <= len(matches)):
            raise ConfigError(f"--set {item!r}: '{name}#{nth}': the recipe has {len(matches)} '{name}' ops")
        index = matches[int(nth) - 1 if nth else 0]
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConfigError(f"--set {item!r}: value is not valid YAML: {e}") from e
        ops[index][1][key.strip()] = value
        build(ops[index][0], ops[index][1])
    return dataclasses.replace(recipe, ops=ops)


def parse(text: str, where: str = "<recipe>") -> Recipe:
    """Parse recipe text; `where` names it in error messages."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{where}: not valid YAML: {e}") from e
    if not isinstance(data, dict) or root is None:
        raise ConfigError(f"{where}: a recipe is a mapping with an 'ops' list")
    lines = {k.value: k.start_mark.line + 1 for k, _ in root.value}
    for key in data:
        if key not in TOP_KEYS:
            valid = ", ".join(sorted(TOP_KEYS))
            raise ConfigError(f"{where}:{lines.get(key, 1)}: unknown key '{key}' (valid: {valid})")
    op_nodes = dict((k.value, v) for k, v in root.value).get("ops")
    if not isinstance(data.get("ops"), list) or op_nodes is None:
        raise ConfigError(f"{where}:{lines.get('ops', 1)}: 'ops' must be a list of single-key mappings")
    specs: list[tuple[str, dict[str, Any]]] = []
    op_lines: list[int] = []
    for entry, node in zip(data["ops"], op_nodes.value):
        line = node.start_mark.line + 1
        if isinstance(entry, str):
            entry = {entry: {}}
        if not isinstance(entry, dict) or len(entry) != 1:
            raise ConfigError(f"{where}:{line}: each op is a mapping 'name: {{params}}'")
        (name, params), = entry.items()
        params = params or {}
        if not isinstance(params, dict):
            raise ConfigError(f"{where}:{line}: op '{name}': parameters must be a mapping")
        try:
            build(name, params)
        except ConfigError as e:
            raise ConfigError(f"{where}:{_key_line(node, str(e)) or line}: {e}") from e
        specs.append((name, params))
        op_lines.append(line)
    workers = data.get("workers")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"{where}:{lines.get('workers')}: 'workers' must be a positive integer")
    shard_size = data.get("shard_size", 8)
    if not isinstance(shard_size, int) or shard_size < 1:
        raise ConfigError(f"{where}:{lines.get('shard_size')}: 'shard_size' must be a positive integer")
    return Recipe(
        name=str(data.get("name") or Path(where).stem),
        ops=specs,
        description=str(data.get("description") or ""),
        input=data.get("input"),
        output=data.get("output"),
        workers=workers,
        shard_size=shard_size,
        lines=op_lines,
        path=Path(where) if where != "<recipe>" else None,
    )


def resolve_paths(specs: list[tuple[str, dict[str, Any]]], out_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """Make the ops' relative output paths (e.g. cut's `save_dir`) relative to the run's output folder; one that
    would leave it (`../x`) is a ConfigError: only an absolute path writes outside the output folder."""
    import os

    from vidcurate.ops.base import REGISTRY

    resolved = []
    root = os.path.abspath(out_dir)
    for name, params in specs:
        params = dict(params)
        for key in REGISTRY[name].run_paths:
            if params.get(key) and not Path(params[key]).is_absolute():
                target = os.path.abspath(os.path.join(root, params[key]))
                if os.path.commonpath([root, target]) != root:
                    raise ConfigError(f"op '{name}': key '{key}': {params[key]!r} leaves the output folder {out_dir}; "
                                      "give an absolute path to write outside it")
                params[key] = target
        resolved.append((name, params))
    return resolved


def _key_line(node: yaml.Node, message: str) -> int | None:
    """Line of the parameter key an error message names, if it can be found."""
    if not isinstance(node, yaml.MappingNode) or not node.value:
        return None
    params = node.value[0][1]
    if isinstance(params, yaml.MappingNode):
        for key, _ in params.value:
            if f"key '{key.value}'" in message:
                return key.start_mark.line + 1
    return None
