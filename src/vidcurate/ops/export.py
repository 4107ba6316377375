"""`export`: write the kept rows as Open-Sora CSV, Parquet, WebDataset shards or a Hugging Face folder."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from vidcurate.export import export_manifest
from vidcurate.ops.base import Resources, Sink, register


@register
class Export(Sink):
    """At the end of a run, export the kept rows; `path` is relative to the output folder."""

    name = "export"
    run_paths = ("path",)
    resources = Resources(cpus=0.5, memory_mb=256)

    format: Literal["opensora", "parquet", "webdataset", "hf"] = "opensora"
    path: str = "train.csv"
    shard_size: int = 1000

    def validate(self) -> None:
        suffix = {"opensora": ".csv", "parquet": ".parquet"}.get(self.format)
        if suffix and not self.path.endswith(suffix):
            raise self.bad("path", f"format {self.format} writes a {suffix} file")
        if self.shard_size < 1:
            raise self.bad("shard_size", "must be >= 1")

    def write(self, manifest_path: Path, out_dir: Path) -> Path:
        options = {"shard_size": self.shard_size} if self.format == "webdataset" else {}
        return export_manifest(manifest_path, self.format, out_dir / self.path, **options)
