"""Manifest I/O: formats round-trip, Open-Sora CSV columns survive unchanged, ids are stable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vidcurate import columns, manifest
from vidcurate.columns import Column
from vidcurate.errors import ConfigError
from vidcurate.manifest import Row
from vidcurate.ops.base import REGISTRY, Op, register


@register
class _Shapes(Op):
    """A test op declaring a list column and a struct column."""

    name = "test_manifest_shapes"
    produces: ClassVar[tuple[Column, ...]] = (
        Column("test_boxes", "list[float]", "px", "box corners"),
        Column("test_struct", "json", "", "per-scene dicts"),
    )

    def process(self, row: Row) -> Row:
        return row


ROWS = [
    {"path": "/v/a.mp4", "id": "a-1", "relpath": "a.mp4", "num_frames": 10, "fps": 24.0,
     "scene_frames": [[0, 5], [5, 10]], "text": "a cat, sitting"},
    {"path": "/v/b.mp4", "id": "b-2", "relpath": "b.mp4", "error": "probe: ProbeError: empty file"},
]


@pytest.mark.parametrize("ext", [".parquet", ".csv", ".jsonl"])
def test_every_format_round_trips_rows_including_json_columns(tmp_path: Path, ext: str) -> None:
    path = manifest.write(ROWS, tmp_path / f"m{ext}")
    back = manifest.read(path)
    assert back[0]["scene_frames"] == [[0, 5], [5, 10]]
    assert back[0]["num_frames"] == 10 and back[0]["text"] == "a cat, sitting"
    assert back[1]["error"].startswith("probe:") and "num_frames" not in back[1]


def test_open_sora_csv_keeps_its_column_names_and_values(tmp_path: Path) -> None:
    src = tmp_path / "meta.csv"
    src.write_text('path,id,relpath,num_frames,height,width,aspect_ratio,fps,resolution,text,aes\n'
                   '/d/x.mp4,x,x.mp4,51,720,1280,0.5625,24.0,921600,"a dog, running",5.2\n')
    rows = manifest.read(src)
    assert rows[0]["text"] == "a dog, running" and rows[0]["num_frames"] == 51
    out = manifest.write(rows, tmp_path / "out.csv")
    assert out.read_text().splitlines()[0] == src.read_text().splitlines()[0].replace(",", ",")
    assert manifest.read(out) == rows


def test_unknown_extension_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown extension"):
        manifest.write(ROWS, tmp_path / "m.xlsx")


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    manifest.write(ROWS, tmp_path / "m.parquet")
    assert [p.name for p in tmp_path.iterdir()] == ["m.parquet"]


def test_stable_id_depends_only_on_relpath_and_is_file_name_safe() -> None:
    a = manifest.stable_id("sub dir/clip #1.mp4")
    assert a == manifest.stable_id("sub dir/clip #1.mp4")
    assert a != manifest.stable_id("other/clip #1.mp4")
    assert manifest.safe_name(a) == a and "/" not in a and " " not in a


def test_safe_name_strips_path_tricks() -> None:
    assert manifest.safe_name("../../etc/passwd") == "etc_passwd"
    assert manifest.safe_name("..") == ""
    assert manifest.safe_name("--fast-84258cd7_0") == "fast-84258cd7_0"
    assert "/" not in manifest.safe_name("a/b\\c:d")


NESTED_ROWS = [
    {"path": "/v/a.mp4", "id": "a", "test_boxes": [0.0, 0.09, 1 / 3, 1e-17, 0.1 + 0.2],
     "test_struct": [{"aes": 5.1, "spans": [[0, 30], [30, 54]]}, {"aes": None, "tags": ["x", "y, z"]}]},
    {"path": "/v/b.mp4", "id": "b", "test_boxes": [], "test_struct": {}},
    {"path": "/v/c.mp4", "id": "c"},
]


@pytest.mark.parametrize("ext", [".parquet", ".csv", ".jsonl"])
def test_declared_list_and_struct_columns_round_trip_exactly(tmp_path: Path, ext: str) -> None:
    back = manifest.read(manifest.write(NESTED_ROWS, tmp_path / f"m{ext}"))
    assert back == NESTED_ROWS


def test_undeclared_list_column_round_trips_through_parquet_and_is_listed_in_the_metadata(tmp_path: Path) -> None:
    rows = [{"path": "a", "my_curve": [0.0, 0.09, 0.1 + 0.2]}, {"path": "b", "my_curve": []},
            {"path": "c", "my_pair": (1, "two")}]
    path = manifest.write(rows, tmp_path / "m.parquet")
    assert manifest.read(path) == [{"path": "a", "my_curve": [0.0, 0.09, 0.1 + 0.2]}, {"path": "b", "my_curve": []},
                                   {"path": "c", "my_pair": [1, "two"]}]
    schema = pq.read_schema(path)
    assert set(json.loads(schema.metadata[manifest.JSON_KEY])) == {"my_curve", "my_pair"}
    assert manifest.json_columns(schema) == {"my_curve", "my_pair"}


@pytest.mark.parametrize("ext", [".parquet", ".jsonl"])
def test_mixed_lists_and_mixed_scalar_columns_round_trip_without_stringifying(tmp_path: Path, ext: str) -> None:
    rows = [{"path": "a", "scene_dropped": [[12, 40, "too short"], [90, 95, "too short"]], "my_mixed": 1},
            {"path": "b", "scene_dropped": [], "my_mixed": "one"},
            {"path": "c", "my_mixed": True, "width": "wide"}]
    assert manifest.read(manifest.write(rows, tmp_path / f"m{ext}")) == rows


def test_csv_decodes_declared_scene_dropped_but_keeps_undeclared_lists_as_json_text(tmp_path: Path) -> None:
    rows = [{"path": "a", "scene_dropped": [[12, 40, "too short"]], "my_list": [1, 2]}]
    back = manifest.read(manifest.write(rows, tmp_path / "m.csv"))
    assert back == [{"path": "a", "scene_dropped": [[12, 40, "too short"]], "my_list": "[1,2]"}]


def test_undeclared_scalars_keep_their_arrow_type_and_bytes_stay_binary(tmp_path: Path) -> None:
    rows = [{"path": "a", "my_int": 3, "my_float": 0.5, "my_flag": True, "my_blob": b"\x00\xff", "my_num": 1},
            {"path": "b", "my_int": 4, "my_float": 1.5, "my_flag": False, "my_blob": b"", "my_num": 2.5}]
    path = manifest.write(rows, tmp_path / "m.parquet")
    schema = pq.read_schema(path)
    types = {n: schema.field(n).type for n in ("my_int", "my_float", "my_flag", "my_blob", "my_num")}
    assert types == {"my_int": pa.int64(), "my_float": pa.float64(), "my_flag": pa.bool_(),
                     "my_blob": pa.binary(), "my_num": pa.float64()}
    assert manifest.read(path) == rows and manifest.json_columns(schema) == set()


@pytest.mark.parametrize("ext", [".parquet", ".jsonl"])
def test_numpy_scalars_arrays_and_tuples_are_written_as_plain_values(tmp_path: Path, ext: str) -> None:
    rows = [{"path": "a", "fps": np.float32(0.5), "num_frames": np.int64(7), "my_arr": np.arange(3),
             "my_tuple": (1, 2), "has_audio": np.bool_(True)}]
    back = manifest.read(manifest.write(rows, tmp_path / f"m{ext}"))
    assert back == [{"path": "a", "fps": 0.5, "num_frames": 7, "my_arr": [0, 1, 2], "my_tuple": [1, 2],
                     "has_audio": True}]
    assert type(back[0]["num_frames"]) is int and type(back[0]["has_audio"]) is bool


def test_concat_tables_merges_shards_with_different_json_columns() -> None:
    shards = [[{"path": "a", "my_x": 1, "my_list": [1.5]}], [{"path": "b", "my_x": "one", "test_boxes": [2.0]}],
              [{"path": "c", "my_x": 2}]]
    table = manifest.concat_tables([manifest.rows_to_table(rows) for rows in shards])
    assert manifest.json_columns(table) == {"my_x", "my_list", "test_boxes"}
    assert manifest.table_to_rows(table) == [row for rows in shards for row in rows]


def test_catalogue_holds_every_ops_declared_columns_under_the_op_name() -> None:
    cat = columns.catalogue()
    for name, cls in REGISTRY.items():
        for col in cls.produces:
            entry = cat[col.name]
            assert entry.type == col.type
            owner = REGISTRY.get(entry.op)
            assert entry.op == name or col.name in {c.name for c in columns.BASE_COLUMNS} or (
                owner is not None and col.name in {c.name for c in owner.produces}), (name, col.name, entry.op)
    assert cat["test_boxes"] == Column("test_boxes", "list[float]", "px", "box corners", "test_manifest_shapes")
    assert cat["num_frames"].op == "probe" and cat["cut_mode"].op == "cut" and cat["scene_dropped"].type == "json"
    assert cat["match_label"].op == "match" and "text_len" not in cat
    assert list(cat)[:3] == ["id", "path", "relpath"] and list(cat)[-2:] == ["error", "drop_reason"]
    assert "test_boxes" not in manifest.catalogue_markdown()


def test_conflicting_column_type_raises_type_error_naming_both_ops() -> None:
    with pytest.raises(TypeError, match=r"'test_conflict'.*'probe'"):
        columns.declare("test_conflict", (Column("fps", "str"),))
    with pytest.raises(TypeError, match=r"'test_conflict'.*'test_manifest_shapes'"):
        columns.declare("test_conflict", (Column("test_boxes", "list[int]"),))
    assert columns.catalogue()["fps"].type == "float"
    columns.declare("test_same_type", (Column("fps", "float"),))
    assert columns.catalogue()["fps"].op == "probe"


def test_unknown_column_type_is_a_type_error_naming_the_column() -> None:
    with pytest.raises(TypeError, match="'my_col'"):
        Column("my_col", "dict")
