"""Exports of the kept rows: Open-Sora training CSV, Parquet, WebDataset tar shards, a Hugging Face folder."""

from __future__ import annotations

import io
import json
import os
import shutil
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


def to_hf(rows: list[Row], dest: Path, *, run_info: dict[str, Any] | None = None) -> Path:
    """A self-contained, pushable Hugging Face dataset folder: the clips under `clips/` (hard links where the
    file system allows, else copies), `data/train-00000-of-00001.parquet` with `path` relative to the folder
    and `text` always present, and a dataset card (README.md) with the counts, hours, the recipe and its
    thresholds, and the meaning of every column. `datasets.load_dataset("parquet", data_dir=DEST/data)`."""
    _refuse_uncut(rows, "hf")
    _require_files(rows, "hf")
    clips = dest / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    out = []
    for row in rows:
        name = f"{safe_name(str(row.get('id', ''))) or 'clip'}{Path(row['path']).suffix.lower() or '.mp4'}"
        _link_or_copy(Path(row["path"]), clips / name)
        out.append({**_slim(row), "path": f"clips/{name}", "text": str(row.get("text") or "")})
    manifest.write(out, dest / "data" / "train-00000-of-00001.parquet")
    card = dest / "README.md"
    tmp = card.with_name(f".{card.name}.tmp-{os.getpid()}")
    tmp.write_text(_dataset_card(out, run_info or {}), encoding="utf-8")
    os.replace(tmp, card)
    return dest


def _link_or_copy(src: Path, dst: Path) -> None:
    if dst.exists():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _require_files(rows: list[Row], fmt: str) -> None:
    """Every clip must be there before the first byte is written (no partial export)."""
    missing = [r for r in rows if not Path(r["path"]).is_file()]
    if missing:
        raise ConfigError(f"export {fmt}: {len(missing)} clip file(s) missing, e.g. {missing[0]['path']} (row "
                          f"{missing[0].get('id')}); nothing was written")


def _refuse_uncut(rows: list[Row], fmt: str) -> None:
    for row in rows:
        if "source_path" in row and row.get("path") == row.get("source_path"):
            raise ConfigError(f"export {fmt}: row {row.get('id')} is a scene that was never cut; run `cut` first")


def _dataset_card(rows: list[Row], run_info: dict[str, Any]) -> str:
    """The dataset card: YAML config for the Hub viewer, then what the data is and how it was made."""
    from vidcurate.columns import catalogue

    hours = sum(float(r.get("duration") or 0) for r in rows) / 3600
    captioned = sum(1 for r in rows if r["text"])
    known = catalogue()
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    lines = [
        "---", "configs:", "- config_name: default", "  data_files:", "  - split: train", "    path: data/*.parquet",
        "---", "", "# Video-text dataset", "",
        f"Exported by vidcurate: {len(rows)} clips, {hours:.2f} hours of video, {captioned} with a caption. "
        "`path` is each clip file inside this folder (`clips/`), `text` its caption (empty when none).", "",
    ]
    if run_info.get("name"):
        lines += ["## How it was made", "", f"Recipe `{run_info['name']}`:", ""]
        lines += [f"- `{name}`: `{json.dumps(params, sort_keys=True)}`" for name, params in run_info.get("ops", [])]
        lines.append("")
    lines += ["## Columns", "", "| column | type | unit | meaning |", "|---|---|---|---|"]
    for name in names:
        col = known.get(name)
        lines.append(f"| `{name}` | {col.type if col else ''} | {col.unit if col else ''} | {col.doc if col else ''} |")
    return "\n".join(lines) + "\n"


def to_webdataset(rows: list[Row], dest: Path, *, shard_size: int = 1000, prefix: str = "shard") -> Path:
    """Tar shards of `{key}.mp4` + `{key}.json` + `{key}.txt` (the caption, empty when there is none, so every
    sample has the same keys for `to_tuple("mp4", "txt", "json")`), written atomically."""
    _refuse_uncut(rows, "webdataset")
    _require_files(rows, "webdataset")
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
    if fmt == "hf":
        info = path.parent / "run.json"
        options = {**options, "run_info": json.loads(info.read_text()) if info.exists() else {}}
    return WRITERS[fmt](read_kept(path), Path(dest), **options)
