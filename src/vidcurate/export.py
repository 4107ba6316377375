"""Exports of the kept rows: Open-Sora training CSV, Parquet, WebDataset tar shards, a Hugging Face folder."""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vidcurate import manifest
from vidcurate.errors import ConfigError
from vidcurate.manifest import Row, safe_name

FORMATS = ("opensora", "parquet", "webdataset", "hf")
OPENSORA_COLUMNS = ("path", "text", "num_frames", "height", "width", "aspect_ratio", "resolution", "fps")
OPENSORA_SCORES = ("aes", "flow", "ocr", "match", "cmotion", "nsfw", "face_ratio", "sharpness", "brightness",
                   "colorfulness", "id", "source_id", "start_s", "end_s")
#: bulky working columns that exports leave out
INTERNAL = ("thumb", "scene_scores", "scene_frames", "scene_times", "scene_dropped")


def kept(rows: list[Row]) -> list[Row]:
    """Rows without an error or a drop reason."""
    return [r for r in rows if not r.get("error") and not r.get("drop_reason")]


def read_kept(path: Path) -> list[Row]:
    """The kept rows of a manifest without the bulky working columns; for a Parquet manifest only those rows
    and columns are ever turned into Python objects (a run's sinks read the run's manifest this way)."""
    if path.suffix != ".parquet":
        return [_slim(r) for r in kept(manifest.read(path))]
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    names = [n for n in pq.read_schema(path).names if n not in INTERNAL]
    table = pq.read_table(path, columns=names)
    for col in ("error", "drop_reason"):
        if col in table.column_names:
            values = table.column(col)
            table = table.filter(pc.or_kleene(pc.is_null(values), pc.equal(values, "")))
    return manifest.table_to_rows(table)


def _slim(row: Row) -> Row:
    return {k: v for k, v in row.items() if k not in INTERNAL}


def to_opensora(rows: list[Row], dest: Path) -> Path:
    """Open-Sora's training CSV: path, text, num_frames, height, width, aspect_ratio, resolution, fps, scores."""
    if dest.suffix != ".csv":
        raise ConfigError(f"export opensora: destination {dest} must be a .csv file")
    extra = [c for c in OPENSORA_SCORES if any(c in r for r in rows)]
    out = [{c: r.get(c, "" if c == "text" else None) for c in (*OPENSORA_COLUMNS, *extra)} for r in rows]
    return manifest.write(out, dest)


def to_parquet(rows: list[Row], dest: Path) -> Path:
    """The kept rows, all columns but the working ones, as one Parquet file."""
    if dest.suffix != ".parquet":
        raise ConfigError(f"export parquet: destination {dest} must be a .parquet file")
    return manifest.write([_slim(r) for r in rows], dest)


def to_hf(rows: list[Row], dest: Path) -> Path:
    """A folder `datasets.load_dataset("parquet", data_dir=DEST)` loads: data/train-00000-of-00001.parquet."""
    manifest.write([_slim(r) for r in rows], dest / "data" / "train-00000-of-00001.parquet")
    (dest / "README.md").write_text(
        "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/*.parquet\n---\n"
        f"Video-text dataset exported by vidcurate: {len(rows)} clips; `path` points at each clip file.\n",
        encoding="utf-8",
    )
    return dest


def to_webdataset(rows: list[Row], dest: Path, *, shard_size: int = 1000, prefix: str = "shard") -> Path:
    """Tar shards of `{key}.mp4` + `{key}.json` + `{key}.txt` (the caption, empty when there is none, so every
    sample has the same keys for `to_tuple("mp4", "txt", "json")`), written atomically."""
    for row in rows:
        if "source_path" in row and row.get("path") == row.get("source_path"):
            raise ConfigError(f"export webdataset: row {row.get('id')} is a scene that was never cut; run `cut` first")
    dest.mkdir(parents=True, exist_ok=True)
    for n, start in enumerate(range(0, len(rows), shard_size)):
        target = dest / f"{safe_name(prefix)}-{n:06d}.tar"
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        with tarfile.open(tmp, "w") as tar:
            for row in rows[start:start + shard_size]:
                key = safe_name(str(row.get("id", ""))).replace(".", "_") or f"sample{start}"
                suffix = Path(row["path"]).suffix.lower().lstrip(".") or "mp4"
                tar.add(row["path"], arcname=f"{key}.{suffix}")
                _add_bytes(tar, f"{key}.json", json.dumps(_slim(row), default=str).encode())
                _add_bytes(tar, f"{key}.txt", str(row.get("text") or "").encode())
        os.replace(tmp, target)
    return dest


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


WRITERS: dict[str, Callable[..., Path]] = {
    "opensora": to_opensora, "parquet": to_parquet, "hf": to_hf, "webdataset": to_webdataset,
}


def export(rows: list[Row], fmt: str, dest: str | Path, **options: Any) -> Path:
    """Export the kept rows in one of FORMATS."""
    if fmt not in WRITERS:
        raise ConfigError(f"export: unknown format '{fmt}' (valid: {', '.join(FORMATS)})")
    return WRITERS[fmt](kept(rows), Path(dest), **options)


def export_manifest(path: Path, fmt: str, dest: str | Path, **options: Any) -> Path:
    """Export the kept rows of a manifest file (read with `read_kept`)."""
    if fmt not in WRITERS:
        raise ConfigError(f"export: unknown format '{fmt}' (valid: {', '.join(FORMATS)})")
    return WRITERS[fmt](read_kept(path), Path(dest), **options)
