"""`vidcurate score OP IN -o OUT [--param value ...]`: run one scorer as a step command.

No `from __future__ import annotations` here: the `op` argument's help (the op modules) is built when the
command is registered, and typer reads it from the evaluated annotation. The list comes from the op modules'
names (one op per module, named after it), so the CLI starts without importing them.
"""

from pathlib import Path
from typing import Annotated, Any

import typer

from vidcurate.cliutil import Input, Output, Strict, Workers, fail, step
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


def register(app: typer.Typer) -> None:
    """Add the `score` command."""
    op_help = f"Op to run: {', '.join(op_names())}, or one from $VIDCURATE_OPS."

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
        from vidcurate.ops.base import build

        try:
            params = parse_params(list(ctx.args))
            build(op, params)
        except ConfigError as e:
            fail(str(e))
        step([(op, params)], Path(src), Path(output), workers=workers, strict=strict)
