"""`convert`: a folder of videos -> manifest rows (path, id, relpath), in a stable order with stable ids."""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from rich.console import Console

from vidcurate.errors import ConfigError
from vidcurate.manifest import Row, stable_id

log = logging.getLogger("vidcurate")

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".flv", ".wmv")


def scan_folder(
    root: str | Path, *, extensions: Iterable[str] = VIDEO_EXTENSIONS, console: Console | None = None
) -> list[Row]:
    """Rows for every file under root with a matching extension, sorted by relpath.

    Symlinked folders are followed once (loops are cut by tracking real paths); unreadable folders are
    reported and skipped rather than aborting the walk.
    """
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"input folder {root} does not exist or is not a folder")
    exts = tuple(e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions)
    seen: set[str] = set()
    rows: list[Row] = []

    def report(err: OSError) -> None:
        if console is not None:
            console.print(f"[yellow]skipped unreadable folder {err.filename}: {err.strerror}")

    skipped: Counter[str] = Counter()
    for folder, dirs, files in os.walk(root, followlinks=True, onerror=report):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort()
        skipped.update("a folder named like a video" for d in dirs if d.lower().endswith(exts))
        for name in sorted(files):
            if name.lower().endswith(exts) and not name.startswith("."):
                path = Path(folder) / name
                rel = path.relative_to(root).as_posix()
                rows.append({"path": str(path.resolve()), "id": stable_id(rel), "relpath": rel})
            else:
                kind = Path(name).suffix.lower() or "(no extension)"
                skipped["a hidden file" if name.startswith(".") else f"*{kind}"] += 1
    rows.sort(key=lambda r: r["relpath"])
    if skipped:
        what = ", ".join(f"{n} {kind}" for kind, n in skipped.most_common())
        log.info("%s: %d videos; skipped %s (video extensions: %s)", root, len(rows), what, " ".join(exts))
    return rows


def read_input(path: str | Path, *, console: Console | None = None) -> Iterable[Row]:
    """The rows of a command's input: a folder of videos (scanned), one video file, or a manifest (.parquet,
    .csv, .jsonl; streamed). A missing path or an unknown extension is a ConfigError."""
    from vidcurate import manifest

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"input {path}: no such file or folder")
    if path.is_dir():
        return scan_folder(path, console=console)
    if path.suffix.lower() in VIDEO_EXTENSIONS:
        return [{"path": str(path.resolve()), "id": stable_id(path.name), "relpath": path.name}]
    if path.suffix.lower() not in manifest.FORMATS:
        raise ConfigError(f"input {path}: not a folder, a video ({', '.join(VIDEO_EXTENSIONS)}) or a manifest "
                          f"({', '.join(manifest.FORMATS)})")
    columns = input_columns(path)
    if "path" not in columns:
        raise ConfigError(f"manifest {path} has no `path` column (its columns: {', '.join(sorted(columns)) or 'none'})")
    return _completed(manifest.iter_rows(path), path.resolve().parent)


def _completed(rows: Iterable[Row], folder: Path) -> Iterator[Row]:
    """Manifest rows made runnable: a relative `path` is relative to the manifest's folder (not the current
    directory), and a row without `id` gets the stable id `convert` would give it (from `relpath`, else the
    path as written)."""
    for row in rows:
        if not row.get("path"):
            raise ConfigError(f"a row of the manifest has no `path`: {str(row)[:200]}")
        given = str(row["path"])
        if not os.path.isabs(given):
            row = {**row, "path": os.path.normpath(folder / given)}
            row.setdefault("relpath", Path(given).as_posix())
        if not row.get("id"):
            row = {**row, "id": stable_id(str(row.get("relpath") or given))}
        yield row


def input_columns(path: str | Path) -> set[str]:
    """The columns an input's rows can have, read from headers only (a folder or a video: path, id, relpath;
    Parquet: its schema; CSV: its header; JSONL: the keys of its first 1000 lines)."""
    import csv
    import io
    import itertools
    import json

    path = Path(path)
    if path.is_dir() or path.suffix.lower() in VIDEO_EXTENSIONS:
        return {"path", "id", "relpath"}
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return set(pq.read_schema(path).names)
    if path.suffix.lower() == ".csv":
        from vidcurate.manifest import csv_text

        return set(next(csv.reader(io.StringIO(csv_text(path))), []))
    with path.open(encoding="utf-8") as fh:
        return {k for line in itertools.islice(fh, 1000) if line.strip() for k in json.loads(line)}
