"""`probe`: header metadata of each file (display size, fps, frame count, codec, ...); broken files -> error."""

from __future__ import annotations

from vidcurate.manifest import Row
from vidcurate.media.probe import probe
from vidcurate.ops.base import Op, Resources, register


@register
class Probe(Op):
    """Read container and stream headers; count frames exactly only when asked or when the header has none."""

    name = "probe"
    resources = Resources(cpus=0.5, memory_mb=256)
    produces = ("num_frames", "fps", "width", "height", "aspect_ratio", "resolution", "duration", "codec")

    exact_frames: bool = False

    def process(self, row: Row) -> Row:
        row.update(probe(row["path"], exact_frames=self.exact_frames))
        return row
