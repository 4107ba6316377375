"""The `vidcurate` command line: step commands (Open-Sora style), `run` for recipes, and helpers.

Commands import what they need when they run, so `vidcurate --help` and a mistyped option answer at once
(no media, Arrow or model libraries are loaded for them).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vidcurate.cliutil import Input, Output, Strict, Workers, console, fail, step
from vidcurate.errors import ConfigError

if TYPE_CHECKING:
    from vidcurate.api import Plan

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
convert_app = typer.Typer(no_args_is_help=True, help="Turn inputs into a manifest.")
app.add_typer(convert_app, name="convert")

@app.command()
def samples(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write sample videos into.")],
    seed: Annotated[int, typer.Option(help="Random seed for the content.")] = 0,
) -> None:
    """Write synthetic sample videos and DIR/ground_truth.json (cuts, fades, motion, text, broken files)."""
    from vidcurate.media.synth import generate

    truth = generate(out_dir, seed=seed)
    console.print(f"wrote {len(truth['videos'])} sample files and {out_dir / 'ground_truth.json'}")


@convert_app.command("video")
def convert_video(
    folder: Annotated[Path, typer.Argument(help="Folder to scan recursively.")],
    output: Output,
    ext: Annotated[
        list[str] | None, typer.Option("--ext", help="File extension to include (repeatable).")
    ] = None,
) -> None:
    """List the videos under FOLDER as a manifest with columns path, id, relpath."""
    from vidcurate import manifest
    from vidcurate.ingest import VIDEO_EXTENSIONS, scan_folder

    try:
        rows = scan_folder(folder, extensions=ext or VIDEO_EXTENSIONS, console=console)
    except ConfigError as e:
        fail(str(e))
    manifest.write(rows, output)
    console.print(f"{len(rows)} videos -> {output}")


@app.command("probe")
def probe_cmd(
    src: Input,
    output: Output,
    exact_frames: Annotated[bool, typer.Option("--exact-frames", help="Count frames by demuxing.")] = False,
    workers: Workers = 0,
    strict: Strict = False,
) -> None:
    """Add header metadata (display size, fps, frames, duration, codec, ...); broken files get `error`."""
    step([("probe", {"exact_frames": exact_frames})], src, output, workers=workers, strict=strict)


SHORTCUTS: dict[str, str] = {
    "fmin": "num_frames >= {}",
    "fmax": "num_frames <= {}",
    "hwmax": "height * width <= {}",
    "fpsmax": "fps <= {}",
    "dmin": "duration >= {}",
    "dmax": "duration <= {}",
    "aesmin": "aes >= {}",
    "flowmin": "flow >= {}",
    "flowmax": "flow <= {}",
    "ocrmax": "ocr <= {}",
    "matchmin": "match >= {}",
}


def shortcut_expression(where: str | None, values: dict[str, float | None], remove_empty_caption: bool) -> str:
    """Combine --where with Open-Sora datautil-style shortcuts into one expression."""
    clauses = [f"({where})"] if where else []
    clauses += [SHORTCUTS[k].format(v) for k, v in values.items() if v is not None]
    if remove_empty_caption:
        clauses.append("len(text) > 0")
    return " and ".join(clauses) or "True"


@app.command("select")
def select_cmd(
    src: Input,
    output: Output,
    where: Annotated[str | None, typer.Option(help="Expression over columns, e.g. 'flow >= 0.5'.")] = None,
    fmin: Annotated[float | None, typer.Option(help="num_frames >= FMIN")] = None,
    fmax: Annotated[float | None, typer.Option(help="num_frames <= FMAX")] = None,
    hwmax: Annotated[float | None, typer.Option(help="height*width <= HWMAX")] = None,
    fpsmax: Annotated[float | None, typer.Option(help="fps <= FPSMAX")] = None,
    dmin: Annotated[float | None, typer.Option(help="duration >= DMIN seconds")] = None,
    dmax: Annotated[float | None, typer.Option(help="duration <= DMAX seconds")] = None,
    aesmin: Annotated[float | None, typer.Option(help="aes >= AESMIN")] = None,
    flowmin: Annotated[float | None, typer.Option(help="flow >= FLOWMIN")] = None,
    flowmax: Annotated[float | None, typer.Option(help="flow <= FLOWMAX")] = None,
    ocrmax: Annotated[float | None, typer.Option(help="ocr <= OCRMAX")] = None,
    matchmin: Annotated[float | None, typer.Option(help="match >= MATCHMIN")] = None,
    remove_empty_caption: Annotated[bool, typer.Option(help="Drop rows whose text is empty.")] = False,
    keep_dropped: Annotated[bool, typer.Option(help="Keep dropped rows, marked with drop_reason.")] = False,
    workers: Workers = 1,
    strict: Strict = False,
) -> None:
    """Keep rows for which the expression holds (rows with errors are left out too unless --keep-dropped)."""
    values = {"fmin": fmin, "fmax": fmax, "hwmax": hwmax, "fpsmax": fpsmax, "dmin": dmin, "dmax": dmax,
              "aesmin": aesmin, "flowmin": flowmin, "flowmax": flowmax, "ocrmax": ocrmax, "matchmin": matchmin}
    expression = shortcut_expression(where, values, remove_empty_caption)
    out = step([("select", {"where": expression})], src, output, workers=workers, strict=strict,
               keep_dropped=keep_dropped)
    if not keep_dropped:
        from vidcurate import manifest

        manifest.write([r for r in out if not r.get("error")], output)


@app.command()
def run(
    recipe_path: Annotated[Path, typer.Argument(
        metavar="RECIPE", help="Recipe YAML file, or the name of a shipped recipe (`vidcurate recipes`).")],
    input: Annotated[Path | None, typer.Option("--input", "-i", help="Folder of videos or manifest.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Output folder.")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-w", help="CPU worker processes (default: the recipe's, else the CPU count; 0: everything in "
        "this process, no crash isolation).")] = None,
    strict: Strict = False,
    overwrite: Annotated[bool, typer.Option(help="Discard every stored output and recompute from scratch.")] = False,
    sets: Annotated[list[str] | None, typer.Option(
        "--set", help="Override a recipe parameter: op.key=value (op#2.key=value for the second op of that name); "
        "repeatable.")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Print the planned stages, shards and decode work, and what is already done; open "
        "no video and write nothing.")] = False,
) -> None:
    """Run a recipe end to end; rerun the same command to resume, or after changing a parameter to recompute
    only the stages it affects."""
    from vidcurate import api, recipe
    from vidcurate.exec.progress import RichProgress
    from vidcurate.report.summary import summarize_manifest, table

    try:
        spec = recipe.load(recipe_path, sets)
        if dry_run:
            _print_plan(api.dry_run(spec, input, output), spec.name)
            return
        result = api.run(spec, input, output, workers=workers, strict=strict, overwrite=overwrite,
                         observer=RichProgress(spec.name))
    except ConfigError as e:
        fail(str(e))
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]: finished work is kept; rerun the same command to resume")
        raise typer.Exit(130) from None
    console.print(table(summarize_manifest(result.rows_in, result.manifest), title=f"recipe {spec.name}"))
    console.print(f"manifest: [bold]{result.manifest}[/bold]")
    for name, path in result.outputs.items():
        console.print(f"{name}: [bold]{path}[/bold]")


@app.command("recipes")
def recipes_cmd() -> None:
    """List the shipped recipes (run one by name: `vidcurate run default -i IN -o OUT`)."""
    import re

    import yaml
    from rich.table import Table

    from vidcurate import recipe

    out = Table(header_style="bold")
    for column in ("name", "what it does", "ready here"):
        out.add_column(column)
    for name, path in recipe.shipped().items():
        description = str((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("description", ""))
        try:
            recipe.load(path)
            ready = "yes"
        except ConfigError as e:
            found = re.search(r"op '([^']+)': key '([^']+)'", str(e))
            ready = f"no: op {found[1]}, key {found[2]} (run it for details)" if found else f"no: {e}"
        out.add_row(name, description.split(". ")[0].strip(), ready)
    console.print(out)
    console.print(f"files: {recipe.SHIPPED}")


def _print_plan(plan: Plan, name: str) -> None:
    from rich.table import Table

    out = Table(title=f"recipe {name}: plan (nothing run)", header_style="bold")
    for column in ("#", "stage", "kind", "ops", "needs", "shards to run"):
        out.add_column(column)
    for k, (stage, todo) in enumerate(zip(plan.stages, plan.stage_shards)):
        res = stage.resources
        needs = f"{res.cpus:g} cpu" + (f", {res.gpus:g} gpu" if res.gpus else "")
        ops = ", ".join(op.name for op in stage.ops) if stage.kind == "scan" else ""
        out.add_row(str(k), stage.label.split("[")[0], stage.kind, ops, needs, str(todo))
    console.print(out)
    scans = sum(1 for stage in plan.stages if stage.kind == "scan")
    console.print(f"{plan.rows} input rows in {plan.shards} shards; {plan.shards_done} already done")
    known = plan.rows_with_duration
    console.print(f"{scans} decode pass(es) per source; " + (
        f"{plan.video_seconds / 3600:.2f} h of video (the duration of {known} of the rows)" if known
        else "durations unknown until probed"))
    console.print(f"then, once: {', '.join([*plan.sinks, 'report'] if 'report' not in plan.sinks else plan.sinks)}")


def _version(value: bool) -> None:
    if value:
        from vidcurate import __version__

        console.print(f"vidcurate {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True,
                                         help="More log output (-vv: debug).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
) -> None:
    """Turn raw videos into a training-ready video-text dataset."""
    import logging

    from rich.logging import RichHandler

    handler = RichHandler(console=console, show_time=False, show_path=False, markup=False)
    logging.basicConfig(level=logging.DEBUG if verbose > 1 else logging.WARNING, format="%(message)s",
                        handlers=[handler], force=True)
    logging.getLogger("vidcurate").setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)


def _register_commands() -> None:
    from vidcurate import commands

    for module in pkgutil.iter_modules(commands.__path__):
        importlib.import_module(f"{commands.__name__}.{module.name}").register(app)


_register_commands()


def main() -> None:
    """Entry point."""
    app()


if __name__ == "__main__":
    main()
