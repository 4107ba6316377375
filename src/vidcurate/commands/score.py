"""`vidcurate score OP IN -o OUT [--param value ...]`: run one scorer as a step command.

No `from __future__ import annotations` here: the `op` argument's help (the op modules) is built when the
command is registered, and typer reads it from the evaluated annotation. The list comes from the op modules'
names (one op per module, named after it), so the CLI starts without importing them.
"""

from pathlib import Path
from typing import Annotated, Any

import typer

from vidcurate.cliutil import Strict, Workers, fail, step
from vidcurate.errors import ConfigError


def parse_params(args: list[str]) -> dict[str, Any]:
    """`--min-seconds 2 --method dis` -> {'min_seconds': 2, 'method': 'dis'} (values parsed as YAML)."""
    params: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            raise ConfigError(f"unexpected argument {arg!r}; parameters are given as --name value")
        key, _, value = arg[2:].partition("=")
        if not value:
            if i + 1 < len(args) and not args[i + 1].startswith("--"):
                value = args[i + 1]
                i += 1
            else:
                value = "true"
        params[key.replace("-", "_")] = _yaml_value(value)
        i += 1
    return params


SINK_MODULES = ("export", "report")
"""Op modules whose op acts on a finished run (`vidcurate export`/`report` are their commands)."""


def op_names() -> list[str]:
    """The ops of the package, from their module names (no import), sinks left out, sorted."""
    import pkgutil

    from vidcurate import ops

    return sorted(m.name for m in pkgutil.iter_modules(ops.__path__) if m.name not in ("base", *SINK_MODULES))


def _yaml_value(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)


def op_help(name: str) -> None:
    """Print an op's recipe parameters (flag, type, default, meaning) and the columns it writes (with units)."""
    import dataclasses
    import inspect
    import typing

    from rich.table import Table

    from vidcurate.cliutil import console
    from vidcurate.ops import load_all, load_one
    from vidcurate.ops.base import REGISTRY, describe_type

    if name not in REGISTRY and not load_one(name):
        load_all()
    if name not in REGISTRY:
        raise ConfigError(f"unknown op '{name}' (known: {', '.join(sorted(REGISTRY))})")
    cls = REGISTRY[name]
    hints = typing.get_type_hints(cls)
    docs = _field_docs(cls, inspect)
    params = Table(title=f"{name}: {(cls.__doc__ or '').strip().splitlines()[0]}", header_style="bold")
    for column in ("parameter", "type", "default", "meaning"):
        params.add_column(column)
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        flag = "--" + field.name.replace("_", "-")
        hint = hints.get(field.name)
        is_flag = hint is bool
        default = field.default if field.default is not dataclasses.MISSING else "(required)"
        params.add_row(flag if is_flag else f"{flag} VALUE", "flag" if is_flag else describe_type(hint),
                       repr(default), docs.get(field.name, ""))
    console.print(params)
    columns = Table(title="columns it writes", header_style="bold")
    for column in ("column", "type", "unit", "meaning"):
        columns.add_column(column)
    for col in cls.produces:
        columns.add_row(col.name, col.type, col.unit, col.doc)
    console.print(columns)


def _field_docs(cls: type, inspect: Any) -> dict[str, str]:
    """`#: text` comments written above fields, in the class and its bases."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        try:
            lines = inspect.getsource(klass).splitlines()
        except (OSError, TypeError):
            continue
        pending: list[str] = []
        for line in lines:
            text = line.strip()
            if text.startswith("#:"):
                pending.append(text[2:].strip())
            elif ":" in text and pending and text.split(":")[0].isidentifier():
                docs[text.split(":")[0]] = " ".join(pending)
                pending = []
            else:
                pending = []
    return docs


def register(app: typer.Typer) -> None:
    """Add the `score` command."""
    help_text = f"Op to run: {', '.join(op_names())}, or one from $VIDCURATE_OPS."

    @app.command(add_help_option=False,
                 context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def score(
        ctx: typer.Context,
        op: Annotated[str | None, typer.Argument(help=help_text)] = None,
        src: Annotated[Path | None, typer.Argument(
            help="Input manifest (.parquet/.csv/.jsonl), a folder of videos or a video.")] = None,
        output: Annotated[Path | None, typer.Option("--output", "-o", help="Output manifest.")] = None,
        workers: Workers = 0,
        strict: Strict = False,
        show_help: Annotated[bool, typer.Option(
            "--help", help="Show this message; with OP, that op's parameters and columns.")] = False,
    ) -> None:
        """Add one op's columns (`vidcurate score OP --help` lists its parameters); per-scene scores go to
        `scene_scores` on rows that carry scenes."""
        from vidcurate.ops.base import build

        if show_help or op is None:
            if op is None:
                typer.echo(ctx.get_help())
                return
            try:
                op_help(op)
            except ConfigError as e:
                fail(str(e))
            return
        if src is None or output is None:
            fail("give IN and -o OUT: vidcurate score OP IN -o OUT [--param value ...]")
        try:
            params = parse_params(list(ctx.args))
            build(op, params)
        except ConfigError as e:
            fail(str(e))
        step([(op, params)], Path(src), Path(output), workers=workers, strict=strict)
