"""Manifest I/O (Parquet native, Open-Sora CSV, JSONL) and the column catalogue.

A manifest is a list of rows; a row is a plain dict. Nested values (lists, dicts) live in memory as Python
objects and are stored as JSON strings so that CSV round-trips and Parquet schemas stay flat and stable.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from vidcurate.errors import ConfigError

Row = dict[str, Any]


@dataclass(frozen=True)
class Column:
    """One entry of the column catalogue."""

    name: str
    type: str
    unit: str
    op: str
    doc: str


_C = Column
CATALOGUE: tuple[Column, ...] = (
    _C("id", "str", "", "convert", "stable id: file stem + hash of relpath (clips: source id + clip index)"),
    _C("path", "str", "", "convert", "path of the media file (the clip file once `cut` ran)"),
    _C("relpath", "str", "", "convert", "path relative to the input folder"),
    _C("source_id", "str", "", "split/cut", "id of the source video a clip comes from"),
    _C("source_path", "str", "", "split/cut", "path of the source video"),
    _C("clip_index", "int", "", "split/cut", "0-based index of the scene within its source"),
    _C("start_frame", "int", "frame", "split/cut", "first frame of the span in the source (inclusive)"),
    _C("end_frame", "int", "frame", "split/cut", "end frame of the span in the source (exclusive)"),
    _C("start_s", "float", "s", "split/cut", "start time of the span in the source"),
    _C("end_s", "float", "s", "split/cut", "end time of the span in the source"),
    _C("num_frames", "int", "frame", "probe", "number of video frames"),
    _C("fps", "float", "1/s", "probe", "average frame rate"),
    _C("width", "int", "px", "probe", "display width (after rotation and sample aspect ratio)"),
    _C("height", "int", "px", "probe", "display height (after rotation and sample aspect ratio)"),
    _C("aspect_ratio", "float", "", "probe", "height / width (Open-Sora convention)"),
    _C("resolution", "int", "px", "probe", "height * width"),
    _C("duration", "float", "s", "probe", "duration of the video stream"),
    _C("codec", "str", "", "probe", "video codec name"),
    _C("pix_fmt", "str", "", "probe", "pixel format of the video stream"),
    _C("bit_rate", "int", "bit/s", "probe", "bit rate of the video stream or container"),
    _C("has_audio", "bool", "", "probe", "the file has an audio stream"),
    _C("file_size", "int", "byte", "probe", "size of the file"),
    _C("rotation", "int", "deg", "probe", "display rotation flag (0, 90, 180, 270)"),
    _C("sar", "str", "", "probe", "sample aspect ratio, e.g. 1:1"),
    _C("stream_index", "int", "", "probe", "index of the chosen (best) video stream"),
    _C("num_video_streams", "int", "", "probe", "number of video streams in the file"),
    _C("start_time", "float", "s", "probe", "timestamp of the first video frame"),
    _C("frames_exact", "bool", "", "probe", "num_frames comes from counting, not the header"),
    _C("timestamp", "str", "", "scenes", "Open-Sora scene list: [('HH:MM:SS.mmm', 'HH:MM:SS.mmm'), ...]"),
    _C("scene_frames", "json", "frame", "scenes", "list of [start_frame, end_frame) scene spans"),
    _C("scene_times", "json", "s", "scenes", "list of [start_s, end_s) scene spans, parallel to scene_frames"),
    _C("scene_dropped", "json", "frame", "scenes", "scenes rejected by length: [start, end, reason]"),
    _C("num_scenes", "int", "", "scenes", "number of scenes kept"),
    _C("transitions", "json", "frame", "scenes", "gradual transitions found, [first, last] inclusive"),
    _C("scene_scores", "json", "", "scorers", "per-scene score dicts, parallel to scene_frames"),
    _C("flow", "float", "px/frame", "motion",
       "mean optical-flow magnitude, px per frame at 30 fps at a 256px short side (px/s = 30 * flow)"),
    _C("cmotion", "str", "", "cmotion", "camera motion label: static, pan_left, ... joined by '+', or unknown"),
    _C("cmotion_dx", "float", "width/s", "cmotion", "median camera velocity in x (+ = camera moves right)"),
    _C("cmotion_dy", "float", "height/s", "cmotion", "median camera velocity in y (+ = camera moves down)"),
    _C("cmotion_zoom", "float", "ln(scale)/s", "cmotion", "median zoom rate (+ = zoom in)"),
    _C("ocr", "float", "0-1", "ocr", "text area / frame area (union of detected text boxes), max over sampled frames"),
    _C("ocr_boxes", "json", "px", "ocr", "[x0, y0, x1, y1] in display pixels, from the sampled frame with most text"),
    _C("ocr_frames", "int", "frame", "ocr", "sampled frames scored for the span"),
    _C("sharpness", "float", "", "quality", "variance of the Laplacian of luma at 256px short side (smaller upscaled)"),
    _C("brightness", "float", "0-255", "quality", "mean luma (BT.601 full range)"),
    _C("contrast", "float", "0-255", "quality", "standard deviation of luma (BT.601 full range)"),
    _C("colorfulness", "float", "", "quality", "Hasler-Suesstrunk colourfulness"),
    _C("black_ratio", "float", "", "quality", "share of sampled frames that are black"),
    _C("frozen_ratio", "float", "", "quality",
       "share of consecutive sampled pairs with no change (8x8 block-mean luma < frozen_diff); black pairs excluded"),
    _C("nsfw", "float", "0-1", "nsfw", "max over sampled frames of weight[class] x confidence of NudeNet detections"),
    _C("nsfw_frames", "int", "frame", "nsfw", "sampled frames scored for the span"),
    _C("face_ratio", "float", "", "face", "largest face box area / frame area, max over sampled frames"),
    _C("num_faces", "int", "", "face", "most faces found in one sampled frame (Haar, confirmed by a second cascade)"),
    _C("face_frames", "int", "frame", "face", "sampled frames the face detector looked at for the span"),
    _C("aes", "float", "1-10", "aesthetic", "LAION aesthetic score (CLIP ViT-L/14 + MLP head)"),
    _C("match", "float", "100*cos", "match",
       "CLIP similarity of frames and caption x100 (Open-Sora scale); long captions: mean over <=77-token chunks"),
    _C("match_label", "float", "100*cos", "match", "CLIP similarity of frames and the op's fixed `label` phrase"),
    _C("text", "str", "", "caption", "caption"),
    _C("text_len", "int", "token", "caption_clean", "caption length in words"),
    _C("cut_mode", "str", "", "cut", "how the clip was written: encode (frame-accurate) or copy (keyframe-aligned)"),
    _C("thumb", "str", "", "thumbnail", "base64 JPEG of the span's middle frame (for the report)"),
    _C("error", "str", "", "any", "'<op>: <ExceptionType>: <message>' when an op failed on this row"),
    _C("drop_reason", "str", "", "select/scenes", "why the row was dropped, e.g. 'select: flow >= 0.5'"),
)
COLUMNS: dict[str, Column] = {c.name: c for c in CATALOGUE}
JSON_COLUMNS = frozenset(c.name for c in CATALOGUE if c.type == "json")
FORMATS = (".parquet", ".csv", ".jsonl")


def stable_id(relpath: str) -> str:
    """A readable id that depends only on the file's location: sanitised stem + hash of the relpath."""
    stem = safe_name(Path(relpath).stem)[:48] or "video"
    digest = hashlib.sha1(relpath.replace(os.sep, "/").encode()).hexdigest()[:8]
    return f"{stem}-{digest}"


def safe_name(text: str) -> str:
    """File-name-safe version of an id: letters, digits, '-', '_' and '.' only; no leading dot (hidden file)
    or dash (read as an option by command-line tools that are handed the name)."""
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9._-]+|\.{2,}", "_", text)).strip("._-")


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(f"manifest {path}: unknown extension {suffix!r}; use one of {', '.join(FORMATS)}")
    return suffix


def _encode(value: Any) -> Any:
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, separators=(",", ":"))
    return value


def _decode(name: str, value: Any) -> Any:
    if name in JSON_COLUMNS and isinstance(value, str) and value:
        return json.loads(value)
    return value


def rows_to_table(rows: list[Row]) -> pa.Table:
    """Build an Arrow table; column order follows first appearance, nested values become JSON text."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    data = {n: [_encode(r.get(n)) for r in rows] for n in names}
    return pa.table({n: _array(n, v) for n, v in data.items()})


def _array(name: str, values: list[Any]) -> pa.Array:
    kind = COLUMNS[name].type if name in COLUMNS else None
    typ = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "bool": pa.bool_(),
           "json": pa.string()}.get(kind or "")
    try:
        return pa.array(values, type=typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def table_to_rows(table: pa.Table) -> list[Row]:
    """Rows from an Arrow table, decoding JSON columns and dropping nulls for compactness."""
    return [{k: _decode(k, v) for k, v in rec.items() if v is not None} for rec in table.to_pylist()]


def read(path: str | Path) -> list[Row]:
    """Read a manifest in any supported format."""
    path = Path(path)
    fmt = _format(path)
    if not path.exists():
        raise ConfigError(f"manifest {path} does not exist")
    if fmt == ".parquet":
        return table_to_rows(pq.read_table(path))
    if fmt == ".csv":
        opts = pacsv.ConvertOptions(strings_can_be_null=False, column_types=_csv_types(path))
        table = pacsv.read_csv(path, convert_options=opts)
        return [{k: v for k, v in r.items() if v not in (None, "")} for r in table_to_rows(table)]
    with path.open(encoding="utf-8") as fh:
        return [{k: v for k, v in json.loads(line).items() if v is not None} for line in fh if line.strip()]


def _csv_types(path: Path) -> dict[str, pa.DataType]:
    with path.open(encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
    return {n: pa.string() for n in header if n in COLUMNS and COLUMNS[n].type in ("str", "json")}


def write(rows: Iterable[Row], path: str | Path) -> Path:
    """Write a manifest atomically (temp name, then rename) in the format given by the extension."""
    path = Path(path)
    fmt = _format(path)
    rows = list(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    if fmt == ".jsonl":
        with tmp.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, default=str) + "\n")
    elif fmt == ".csv":
        _write_csv(rows, tmp)
    else:
        table = rows_to_table(rows) if rows else pa.table({"path": pa.array([], pa.string())})
        pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def _write_csv(rows: list[Row], path: Path) -> None:
    """Minimal quoting, as pandas writes Open-Sora's meta CSVs."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(names or ["path"])
        for row in rows:
            writer.writerow(["" if row.get(n) is None else _encode(row[n]) for n in names])


def concat_tables(tables: list[pa.Table]) -> pa.Table:
    """Concatenate shard tables whose columns may differ (missing columns become nulls)."""
    return pa.concat_tables(tables, promote_options="permissive")


def catalogue_markdown() -> str:
    """The README's column table."""
    lines = ["| column | type | unit | produced by | meaning |", "|---|---|---|---|---|"]
    lines += [f"| `{c.name}` | {c.type} | {c.unit} | {c.op} | {c.doc} |" for c in CATALOGUE]
    return "\n".join(lines)


def _update_readme(readme: Path) -> None:
    text = readme.read_text(encoding="utf-8")
    start = text.index("<!-- columns")
    end = text.index("<!-- /columns -->")
    begin = text.index("\n", start) + 1
    readme.write_text(text[:begin] + catalogue_markdown() + "\n" + text[end:], encoding="utf-8")


if __name__ == "__main__":
    _update_readme(Path(__file__).resolve().parents[2] / "README.md")
