"""`vidcurate score OP IN -o OUT [--param value ...]`: run one scorer as a step command.

No `from __future__ import annotations` here: the `op` argument's help (the registered ops) is built when the
command is registered, and typer reads it from the evaluated annotation.
"""

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from vidcurate.cliutil import Input, Output, Strict, Workers, fail, step
from vidcurate.errors import ConfigError
from vidcurate.ops.base import REGISTRY, Sink, build


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
        params[key.replace("-", "_")] = yaml.safe_load(value)
        i += 1
    return params


def op_names() -> list[str]:
    """Every registered op that is not a sink, sorted."""
    from vidcurate.ops import load_all

    load_all()
    return sorted(name for name, cls in REGISTRY.items() if not issubclass(cls, Sink))


def register(app: typer.Typer) -> None:
    """Add the `score` command."""
    op_help = f"Op to run: {', '.join(op_names())}."

    @app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def score(
        ctx: typer.Context,
        op: Annotated[str, typer.Argument(help=op_help)],
        src: Input,
        output: Output,
        workers: Workers = 0,
        strict: Strict = False,
    ) -> None:
        """Add one scorer's columns; per-scene scores go to `scene_scores` on rows that carry scenes."""
        try:
            params = parse_params(list(ctx.args))
            build(op, params)
        except ConfigError as e:
            fail(str(e))
        step([(op, params)], Path(src), Path(output), workers=workers, strict=strict)
