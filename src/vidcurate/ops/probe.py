"""`probe`: header metadata of each file (display size, fps, frame count, codec, ...); broken files -> error."""

from __future__ import annotations

from vidcurate.columns import Column
from vidcurate.manifest import Row
from vidcurate.media.probe import probe
from vidcurate.ops.base import Op, Resources, register


@register
class Probe(Op):
    """Read container and stream headers; count frames exactly only when asked or when the header has none."""

    name = "probe"
    resources = Resources(cpus=0.5, memory_mb=256)
    produces = (
        Column("num_frames", "int", "frame", "number of video frames"),
        Column("fps", "float", "1/s", "average frame rate"),
        Column("width", "int", "px", "display width (after rotation and sample aspect ratio)"),
        Column("height", "int", "px", "display height (after rotation and sample aspect ratio)"),
        Column("aspect_ratio", "float", "", "height / width (Open-Sora convention)"),
        Column("resolution", "int", "px", "height * width"),
        Column("duration", "float", "s", "duration of the video stream"),
        Column("codec", "str", "", "video codec name"),
        Column("pix_fmt", "str", "", "pixel format of the video stream"),
        Column("bit_rate", "int", "bit/s", "bit rate of the video stream or container"),
        Column("has_audio", "bool", "", "the file has an audio stream"),
        Column("file_size", "int", "byte", "size of the file"),
        Column("rotation", "int", "deg", "display rotation flag (0, 90, 180, 270)"),
        Column("sar", "str", "", "sample aspect ratio, e.g. 1:1"),
        Column("stream_index", "int", "", "index of the chosen (best) video stream"),
        Column("num_video_streams", "int", "", "number of video streams in the file"),
        Column("start_time", "float", "s", "timestamp of the first video frame"),
        Column("frames_exact", "bool", "", "num_frames comes from counting, not the header"),
    )

    exact_frames: bool = False

    def process(self, row: Row) -> Row:
        row.update(probe(row["path"], exact_frames=self.exact_frames))
        return row
