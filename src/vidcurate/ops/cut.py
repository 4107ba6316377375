"""`cut`: write each live scene as a clip file (frame-accurate re-encode or keyframe-aligned stream copy).

Cutting is the dearest CPU step, so it runs last: scenes are scored and selected on the source, and only
rows still live reach `cut`. Input rows are scene rows (from `split`), or source rows that carry
`scene_frames` (from `scenes`; they are split here first, so `vidcurate scenes` then `vidcurate cut`
works as Open-Sora's scene-cut step does). Dropped scene rows pass through un-cut. A row with neither is
an error that says to run `scenes` first, unless `whole: true` asks for the whole file as one clip.

Clips go to `save_dir/{source_id}_{clip_index}.mp4` (or under the source's folder structure with
`mirror: true`). A clip already there that probes to its planned frame count and carries the same plan tag
(span and settings, `media.cut.plan_tag`) is reused, not encoded again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from vidcurate.columns import Column
from vidcurate.detect.post import parse_open_sora_timestamp
from vidcurate.manifest import Row, safe_name
from vidcurate.media.cut import (
    X264_PRESETS,
    CutError,
    CutResult,
    EncodeSettings,
    FrameTable,
    clean_stale,
    copy_clip,
    copy_plan,
    copy_suffix,
    encode_clip,
    existing_clip,
    expected_frames,
    frame_table,
    output_size,
    plan_tag,
)
from vidcurate.media.probe import probe
from vidcurate.ops.base import Op, Resources, register
from vidcurate.ops.split import scene_rows


@register
class Cut(Op):
    """Encode (or stream-copy) each scene span to its own clip file and point the row at it."""

    name = "cut"
    resources = Resources(cpus=1.0, memory_mb=1024)
    produces = (
        Column("path", "str", "", "path of the media file (the clip file once `cut` ran)"),
        Column("cut_mode", "str", "", "how the clip was written: encode (frame-accurate) or copy (keyframe-aligned)"),
        Column("num_frames", "int", "frame", "number of video frames"),
        Column("fps", "float", "1/s", "average frame rate"),
        Column("width", "int", "px", "display width (after rotation and sample aspect ratio)"),
        Column("height", "int", "px", "display height (after rotation and sample aspect ratio)"),
        Column("duration", "float", "s", "duration of the video stream"),
    )
    run_paths = ("save_dir",)

    save_dir: str = ""
    mode: Literal["encode", "copy"] = "encode"
    crf: int = 18
    preset: str = "veryfast"
    fps: float | None = None
    shorter_side: int | None = None
    keep_audio: bool = False
    mirror: bool = False
    whole: bool = False

    def validate(self) -> None:
        if not self.save_dir:
            raise self.bad("save_dir", "required: the folder clips are written to")
        if not 0 <= self.crf <= 51:
            raise self.bad("crf", f"must be 0..51 (x264), got {self.crf}")
        if self.preset not in X264_PRESETS:
            raise self.bad("preset", f"must be one of {', '.join(X264_PRESETS)}, got {self.preset!r}")
        if self.fps is not None and not self.fps > 0:
            raise self.bad("fps", f"must be > 0, got {self.fps}")
        if self.shorter_side is not None and (self.shorter_side < 16 or self.shorter_side % 2):
            raise self.bad("shorter_side", f"must be an even number >= 16, got {self.shorter_side}")
        if self.mode == "copy" and (self.fps is not None or self.shorter_side is not None):
            key = "fps" if self.fps is not None else "shorter_side"
            raise self.bad(key, "needs mode: encode (a stream copy cannot resample or resize)")
        self._source: tuple[str, FrameTable, dict[str, Any]] | None = None

    def expand(self, row: Row) -> list[Row] | None:
        """A source row with a scene list is split into its scene rows first; each is cut on its own. A row
        with only Open-Sora's `timestamp` (a meta CSV from their scene detection) gets its spans from it."""
        if "start_frame" in row:
            return None
        if "scene_frames" not in row and row.get("timestamp"):
            return scene_rows(self._timestamp_scenes(row))
        if "scene_frames" in row:
            return scene_rows(row)
        return None

    def _timestamp_scenes(self, row: Row) -> Row:
        """The row with `scene_frames`/`scene_times` from its `timestamp` (as Open-Sora's cut.py reads it:
        each span holds the frames presented from its start up to, not including, its end)."""
        table, _ = self._load(row["path"])
        frames, times, dropped = [], [], []
        for start_s, end_s in parse_open_sora_timestamp(row["timestamp"]):
            start, end = table.index_at(start_s), min(table.index_at(end_s), table.num_frames)
            if end <= start:
                dropped.append([start, start, f"timestamp span {start_s:g}-{end_s:g} s holds no frame"])
                continue
            frames.append([start, end])
            times.append([round(table.seconds(start), 6), round(table.seconds(end), 6)])
        return {**row, "scene_frames": frames, "scene_times": times, "scene_dropped": dropped}

    def process(self, row: Row) -> Row:
        """Cut one scene row (or, with `whole`, one source row) and return it pointing at the clip."""
        if "start_frame" in row and row.get("source_path") and row.get("path") != row["source_path"]:
            return row
        if "start_frame" not in row:
            if not self.whole:
                raise CutError("row has no scenes; run `scenes` first (or set whole: true to cut the whole file)")
            row.update(source_id=row.get("id") or Path(row["path"]).stem, source_path=row["path"], clip_index=0)
        source = row["source_path"] if "start_frame" in row else row["path"]
        table, info = self._load(source)
        start = int(row.get("start_frame", 0))
        end = int(row.get("end_frame", table.num_frames))
        dst = self.clip_path(row, copy_suffix(source, self.keep_audio) if self.mode == "copy" else ".mp4")
        clean_stale(dst)
        result = self._reuse(dst, table, info, start, end) or self._write(source, dst, table, start, end)
        row.update(result.info)
        row.update(
            path=str(dst),
            start_frame=result.start_frame,
            end_frame=result.end_frame,
            start_s=round(result.start_s, 6),
            end_s=round(result.end_s, 6),
            cut_mode=self.mode,
        )
        return row

    def clip_path(self, row: Row, suffix: str = ".mp4") -> Path:
        """save_dir[/mirrored folders]/{source_id}_{clip_index}.mp4, every component sanitised.

        Stream copies of codecs MP4 cannot hold (VP8, ...) get '.mkv' instead.
        """
        root = Path(os.path.abspath(self.save_dir))
        folder = root
        if self.mirror and row.get("relpath"):
            for part in Path(str(row["relpath"]).replace("\\", "/")).parent.parts:
                clean = safe_name(part)
                if clean:
                    folder = folder / clean
        stem = safe_name(f"{row['source_id']}_{row['clip_index']}") or f"clip_{row['clip_index']}"
        path = folder / f"{stem}{suffix}"
        if os.path.commonpath([os.path.abspath(root), os.path.abspath(path)]) != os.path.abspath(root):
            raise CutError(f"clip path {path} escapes save_dir {root}")
        return path

    def _load(self, source: str) -> tuple[FrameTable, dict[str, Any]]:
        """Frame table and probe of a source, cached for the scenes of the same source."""
        if self._source is None or self._source[0] != source:
            info = probe(source)
            self._source = (source, frame_table(source), info)
        return self._source[1], self._source[2]

    def _settings(self) -> EncodeSettings:
        return EncodeSettings(self.crf, self.preset, self.fps, self.shorter_side, self.keep_audio)

    def _reuse(self, dst: Path, table: FrameTable, info: dict[str, Any], start: int, end: int) -> CutResult | None:
        """The result of an earlier run's clip when it matches this plan."""
        if self.mode == "copy":
            first, stop = copy_plan(table, start, end)
            found = existing_clip(dst, stop - first, 0, tag=plan_tag(first, stop, keep_audio=self.keep_audio))
            start, end = first, stop
        else:
            size = output_size(info["width"], info["height"], self.shorter_side)
            found = existing_clip(dst, expected_frames(table, start, end, self.fps), 1, size,
                                  tag=plan_tag(start, end, self._settings()))
        if found is None:
            return None
        return CutResult(start, end, table.seconds(start), table.seconds(end), found, reused=True)

    def _write(self, source: str, dst: Path, table: FrameTable, start: int, end: int) -> CutResult:
        if self.mode == "copy":
            return copy_clip(source, dst, start, end, keep_audio=self.keep_audio, table=table)
        return encode_clip(source, dst, start, end, self._settings(), table=table)
