"""Exports: Open-Sora CSV columns, Parquet, WebDataset shards, a folder `datasets` loads."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vidcurate import manifest
from vidcurate.cli import app
from vidcurate.errors import ConfigError
from vidcurate.export import OPENSORA_COLUMNS, export


@pytest.fixture()
def rows(tmp_path: Path) -> list[dict]:
    clips = []
    for i in range(3):
        clip = tmp_path / "clips" / f"s_{i}.mp4"
        clip.parent.mkdir(exist_ok=True)
        clip.write_bytes(b"\x00fake-mp4-bytes" * (i + 1))
        clips.append({"id": f"s_{i}", "path": str(clip), "source_id": "s", "source_path": "/src/s.mp4",
                      "text": f"caption {i}", "num_frames": 48, "height": 72, "width": 128,
                      "aspect_ratio": 0.5625, "resolution": 9216, "fps": 24.0, "flow": 1.5, "thumb": "xx"})
    clips[1]["drop_reason"] = "select: flow >= 2"
    clips.append({"id": "broken", "path": "/x.mp4", "error": "probe: ProbeError: empty"})
    return clips


def test_opensora_csv_has_the_training_columns_and_only_kept_rows(rows: list[dict], tmp_path: Path) -> None:
    out = export(rows, "opensora", tmp_path / "train.csv")
    header = out.read_text().splitlines()[0].split(",")
    assert tuple(header[: len(OPENSORA_COLUMNS)]) == OPENSORA_COLUMNS and "flow" in header
    assert [r["text"] for r in manifest.read(out)] == ["caption 0", "caption 2"]


def test_parquet_export_leaves_out_working_columns(rows: list[dict], tmp_path: Path) -> None:
    back = manifest.read(export(rows, "parquet", tmp_path / "d.parquet"))
    assert len(back) == 2 and "thumb" not in back[0]


def test_webdataset_shards_hold_video_json_and_caption(rows: list[dict], tmp_path: Path) -> None:
    export(rows, "webdataset", tmp_path / "wds", shard_size=1)
    shards = sorted((tmp_path / "wds").glob("*.tar"))
    assert [s.name for s in shards] == ["shard-000000.tar", "shard-000001.tar"]
    with tarfile.open(shards[1]) as tar:
        assert sorted(tar.getnames()) == ["s_2.json", "s_2.mp4", "s_2.txt"]
        assert tar.extractfile("s_2.mp4").read() == Path(rows[2]["path"]).read_bytes()
        assert json.loads(tar.extractfile("s_2.json").read())["flow"] == 1.5


def test_webdataset_shards_load_with_the_webdataset_package_even_without_captions(rows: list[dict],
                                                                                 tmp_path: Path) -> None:
    webdataset = pytest.importorskip("webdataset")
    rows = [dict(r) for r in rows]
    rows[2].pop("text")
    export(rows, "webdataset", tmp_path / "wds", shard_size=10)
    shard = str(tmp_path / "wds" / "shard-000000.tar")
    samples = list(webdataset.WebDataset(shard, shardshuffle=False).to_tuple("mp4", "txt", "json"))
    assert [(txt, json.loads(meta)["id"]) for _, txt, meta in samples] == [(b"caption 0", "s_0"), (b"", "s_2")]
    assert samples[0][0] == Path(rows[0]["path"]).read_bytes()


def test_webdataset_refuses_scenes_that_were_never_cut(tmp_path: Path) -> None:
    row = {"id": "a_0", "path": "/s.mp4", "source_path": "/s.mp4", "start_frame": 0, "end_frame": 5}
    with pytest.raises(ConfigError, match="never cut"):
        export([row], "webdataset", tmp_path / "w")


def test_hf_folder_is_self_contained_loads_with_datasets_and_has_a_card(rows: list[dict], tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    rows = [dict(r) for r in rows]
    rows[2].pop("text")
    for row in rows[:3]:
        row["duration"] = 1800.0
    run_info = {"name": "myrecipe", "ops": [["select", {"where": "flow >= 1"}]]}
    dest = export(rows, "hf", tmp_path / "hf", run_info=run_info)
    ds = datasets.load_dataset("parquet", data_dir=str(dest / "data"), split="train")
    assert ds.num_rows == 2 and ds["text"] == ["caption 0", ""]
    assert ds["path"] == ["clips/s_0.mp4", "clips/s_2.mp4"]
    assert all((dest / p).read_bytes() == Path(r["path"]).read_bytes() for p, r in zip(ds["path"], [rows[0], rows[2]]))
    card = (dest / "README.md").read_text()
    assert "2 clips, 1.00 hours of video, 1 with a caption" in card
    assert 'Recipe `myrecipe`' in card and '`select`: `{"where": "flow >= 1"}`' in card
    assert "| `flow` | float | px/frame |" in card


def test_export_command_and_unknown_format(rows: list[dict], tmp_path: Path) -> None:
    src = manifest.write(rows, tmp_path / "m.parquet")
    ok = CliRunner().invoke(app, ["export", str(src), "--format", "opensora", "-o", str(tmp_path / "t.csv")])
    assert ok.exit_code == 0, ok.output
    bad = CliRunner().invoke(app, ["export", str(src), "--format", "zip", "-o", str(tmp_path / "t.zip")])
    assert bad.exit_code == 2 and "unknown format 'zip'" in bad.output


def test_the_export_sink_reads_only_kept_rows_without_working_columns(rows: list[dict], tmp_path: Path) -> None:
    from vidcurate.export import read_kept
    from vidcurate.ops.base import build

    path = manifest.write(rows, tmp_path / "manifest.parquet")
    expected = [{k: v for k, v in r.items() if k not in ("thumb", "scene_scores", "scene_frames")}
                for r in rows if not r.get("error") and not r.get("drop_reason")]
    assert read_kept(path) == expected
    out = build("export", {"format": "parquet", "path": "d.parquet"}).write(path, tmp_path)
    assert [r["id"] for r in manifest.read(out)] == [r["id"] for r in expected]


def test_export_infers_the_format_from_the_destination_or_asks_for_it(rows: list[dict], tmp_path: Path) -> None:
    src = manifest.write(rows, tmp_path / "m.parquet")
    assert CliRunner().invoke(app, ["export", str(src), "-o", str(tmp_path / "d.parquet")]).exit_code == 0
    assert [r["id"] for r in manifest.read(tmp_path / "d.parquet")] == ["s_0", "s_2"]
    assert CliRunner().invoke(app, ["export", str(src), "-o", str(tmp_path / "t.csv")]).exit_code == 0
    assert (tmp_path / "t.csv").read_text().startswith(",".join(OPENSORA_COLUMNS))
    folder = CliRunner().invoke(app, ["export", str(src), "-o", str(tmp_path / "wds")])
    assert folder.exit_code == 2 and "give --format" in folder.output and not (tmp_path / "wds").exists()
