"""Tests for the `cut` op and vidcurate.media.cut: exact frames, true copy boundaries, resume, names, errors."""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from vidcurate import manifest
from vidcurate.errors import ConfigError
from vidcurate.exec.apply import apply
from vidcurate.media import cut as media_cut
from vidcurate.media.cut import EncodeSettings, clean_stale, copy_clip, encode_clip, frame_table
from vidcurate.media.probe import probe
from vidcurate.ops.base import build

SIZE = (128, 72)
BITS = 8
GOP = 12


def _counter_frame(index: int, rng: np.random.Generator) -> np.ndarray:
    """Random 8x8-block texture with the frame index as 8 black/white blocks along the top: off-by-one shows."""
    width, height = SIZE
    img = np.kron(rng.integers(40, 215, (height // 8, width // 8, 3), dtype=np.uint8), np.ones((8, 8, 1), np.uint8))
    for bit in range(BITS):
        img[:16, bit * 16 : (bit + 1) * 16] = 255 if (index >> bit) & 1 else 0
    return img


def read_counter(rgb: np.ndarray) -> int:
    """The index drawn by `_counter_frame` (block centres, robust to lossy encoding)."""
    return sum(1 << bit for bit in range(BITS) if rgb[4:12, bit * 16 + 4 : bit * 16 + 12].mean() > 127)


def write_counter_video(path: Path, n: int, *, vfr: bool = False) -> list[np.ndarray]:
    """An H.264 file with B-frames (preset fast), a keyframe every GOP frames, optionally VFR timestamps."""
    rng = np.random.default_rng(7)
    frames = [_counter_frame(i, rng) for i in range(n)]
    gaps = rng.choice([1800, 3600, 4500, 9000], size=n)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25, options={"preset": "fast", "crf": "8", "bf": "3",
                                                             "x264-params": f"keyint={GOP}:min-keyint={GOP}"})
        stream.width, stream.height, stream.pix_fmt = *SIZE, "yuv420p"
        time_base = Fraction(1, 90000) if vfr else Fraction(1, 25)
        stream.codec_context.time_base = time_base
        pts = 0
        for array, gap in zip(frames, gaps):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts, frame.time_base = pts, time_base
            pts += int(gap) if vfr else 1
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return frames


def decoded(path: Path | str) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def counter(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[np.ndarray]]]:
    root = tmp_path_factory.mktemp("counter")
    return {kind: (root / f"{kind}.mp4", write_counter_video(root / f"{kind}.mp4", 90, vfr=kind == "vfr"))
            for kind in ("cfr", "vfr")}


def scene_row(path: Path, start: int, end: int, *, source_id: str = "src", index: int = 0, **extra) -> dict:
    return {"id": f"{source_id}_{index}", "path": str(path), "source_path": str(path), "source_id": source_id,
            "clip_index": index, "start_frame": start, "end_frame": end, **extra}


def all_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("kind", ["cfr", "vfr"])
def test_encode_writes_exactly_the_span_frames_on_bframe_sources(counter, tmp_path, kind):
    path, _ = counter[kind]
    source = decoded(path)
    assert [read_counter(f) for f in source] == list(range(90))
    table = frame_table(path)
    assert table.exact and len(table.keyframes) >= 90 // GOP
    assert table.order != sorted(table.order), "the fixture must have B-frames (decode order != display order)"
    for start, end in [(0, 7), (13, 40), (37, 38), (47, 90)]:
        clip = tmp_path / f"{start}.mp4"
        result = encode_clip(path, clip, start, end, EncodeSettings(crf=12), table=table)
        frames = decoded(clip)
        assert [read_counter(f) for f in frames] == list(range(start, end))
        diff = np.mean([np.abs(f.astype(int) - source[start + i]).mean() for i, f in enumerate(frames)])
        assert diff < 3
        assert result.info["num_frames"] == end - start
        assert result.start_s == pytest.approx(table.seconds(start))


def test_vfr_clip_keeps_source_frame_times(counter, tmp_path):
    path, _ = counter["vfr"]
    table = frame_table(path)
    encode_clip(path, tmp_path / "c.mp4", 20, 50, EncodeSettings(), table=table)
    with av.open(str(tmp_path / "c.mp4")) as container:
        times = [float(f.pts * f.time_base) for f in container.decode(video=0)]
    expected = [table.seconds(i) - table.seconds(20) for i in range(20, 50)]
    assert times == pytest.approx(expected, abs=1e-3)
    # MP4 stores sample durations as dts deltas, so with B-frames the last frame's length is approximate.
    assert probe(tmp_path / "c.mp4", exact_frames=True)["duration"] == pytest.approx(
        table.seconds(50) - table.seconds(20), abs=0.1)


def test_copy_mode_row_carries_the_keyframe_aligned_boundaries(counter, tmp_path):
    path, _ = counter["cfr"]
    op = build("cut", {"save_dir": str(tmp_path), "mode": "copy"})
    table = frame_table(path)
    keys = [table.index_of(p) for p in table.keyframes]
    first, stop = max(k for k in keys if k <= 15), min(k for k in keys if k >= 40)
    assert first < 15 and stop > 40
    [row] = apply(op, [scene_row(path, 15, 40)])
    assert "error" not in row
    assert (row["start_frame"], row["end_frame"], row["cut_mode"]) == (first, stop, "copy")
    assert [read_counter(f) for f in decoded(row["path"])] == list(range(first, stop))
    assert row["start_s"] == pytest.approx(table.seconds(first)) and row["end_s"] == pytest.approx(table.seconds(stop))
    assert row["num_frames"] == stop - first


def test_copy_to_the_end_and_from_the_start(counter, tmp_path):
    path, _ = counter["vfr"]
    last_key = frame_table(path).keyframe_at_or_before(80)
    result = copy_clip(path, tmp_path / "tail.mp4", 80, 90)
    assert (result.start_frame, result.end_frame) == (last_key, 90) and last_key < 80
    assert [read_counter(f) for f in decoded(tmp_path / "tail.mp4")] == list(range(last_key, 90))
    head = copy_clip(path, tmp_path / "head.mp4", 0, 3)
    assert head.start_frame == 0 and [read_counter(f) for f in decoded(tmp_path / "head.mp4")] == list(
        range(0, head.end_frame))


def test_fps_resample_and_shorter_side_resize(samples, tmp_path):
    root, truth = samples
    src = root / "cuts/three_cuts.mp4"
    op = build("cut", {"save_dir": str(tmp_path), "fps": 12, "shorter_side": 90})
    [row] = apply(op, [scene_row(src, 30, 54)])
    assert (row["width"], row["height"], row["fps"]) == (160, 90, 12.0)
    assert row["num_frames"] == 12 and row["duration"] == pytest.approx(1.0)
    assert (row["start_frame"], row["end_frame"]) == (30, 54)


def test_rotation_and_sample_aspect_ratio_become_upright_square_pixels(samples, tmp_path):
    root, truth = samples
    op = build("cut", {"save_dir": str(tmp_path)})
    rotated, sar = apply(op, [scene_row(root / "odd/rotated.mp4", 0, 24, source_id="rot"),
                              scene_row(root / "odd/sar.mp4", 0, 24, source_id="sar")])
    assert (rotated["width"], rotated["height"], rotated["rotation"]) == (180, 320, 0)
    first = decoded(rotated["path"])[0]
    assert first.shape[:2] == (320, 180) and first[2:20, 2:20].mean() > 230
    assert (sar["width"], sar["height"], sar["sar"]) == (320, 180, "1:1")


def test_copy_keeps_the_rotation_flag(samples, tmp_path):
    root, _ = samples
    op = build("cut", {"save_dir": str(tmp_path), "mode": "copy"})
    [row] = apply(op, [scene_row(root / "odd/rotated.mp4", 0, 48)])
    assert (row["width"], row["height"], row["rotation"]) == (180, 320, 90)


@pytest.mark.parametrize("mode", ["encode", "copy"])
def test_keep_audio_writes_the_matching_audio_span(samples, tmp_path, mode):
    root, _ = samples
    src = root / "odd/audio.mp4"
    with_audio = build("cut", {"save_dir": str(tmp_path / "a"), "keep_audio": True, "mode": mode})
    without = build("cut", {"save_dir": str(tmp_path / "b"), "mode": mode})
    [kept] = apply(with_audio, [scene_row(src, 25, 75)])
    [dropped] = apply(without, [scene_row(src, 25, 75)])
    assert kept["has_audio"] and not dropped["has_audio"]
    with av.open(kept["path"]) as container:
        stream = container.streams.audio[0]
        samples_out = sum(f.samples for f in container.decode(stream))
        seconds = samples_out / stream.codec_context.sample_rate
    assert seconds == pytest.approx(kept["end_s"] - kept["start_s"], abs=0.05)


@pytest.mark.parametrize("name", ["broken/not_video.mp4", "broken/empty.mp4", "missing.mp4"])
def test_bad_source_becomes_an_error_row_and_leaves_no_file(samples, tmp_path, name):
    root, _ = samples
    out = tmp_path / "clips"
    op = build("cut", {"save_dir": str(out)})
    [row] = apply(op, [scene_row(root / name, 0, 10)])
    assert row["error"].startswith("cut: ")
    assert row["path"] == str(root / name)
    assert not out.exists() or all_files(out) == []


def test_failed_verification_raises_and_leaves_no_file(samples, tmp_path, monkeypatch):
    root, _ = samples
    real = media_cut.probe
    monkeypatch.setattr(media_cut, "probe", lambda p, **kw: {**real(p, **kw), "num_frames": 3})
    op = build("cut", {"save_dir": str(tmp_path)})
    [row] = apply(op, [scene_row(root / "cuts/three_cuts.mp4", 0, 30)])
    assert "planned 30" in row["error"] and row["error"].startswith("cut: CutError")
    assert all_files(tmp_path) == []


def test_span_outside_the_source_is_an_error(samples, tmp_path):
    root, _ = samples
    [row] = apply(build("cut", {"save_dir": str(tmp_path)}), [scene_row(root / "cuts/three_cuts.mp4", 100, 500)])
    assert "outside the source's 120 frames" in row["error"]


def test_resume_does_not_encode_existing_clips_and_cleans_stale_temps(samples, tmp_path):
    root, _ = samples
    src = root / "cuts/three_cuts.mp4"
    op = build("cut", {"save_dir": str(tmp_path)})
    rows = [scene_row(src, 0, 30, index=0), scene_row(src, 30, 54, index=1)]
    first = apply(op, rows)
    clip0, clip1 = (Path(r["path"]) for r in first)
    assert media_cut.ENCODES[str(clip0)] == 1
    stale = tmp_path / f".{clip0.name}.tmp-999999999.mp4"
    stale.write_bytes(b"partial")
    clip1.write_bytes(clip1.read_bytes()[:2000])
    again = apply(build("cut", {"save_dir": str(tmp_path)}), rows)
    assert media_cut.ENCODES[str(clip0)] == 1
    assert media_cut.ENCODES[str(clip1)] == 2
    assert not stale.exists()
    assert [r["num_frames"] for r in again] == [30, 24]
    assert {k: v for k, v in again[0].items() if k != "file_size"} == {
        k: v for k, v in first[0].items() if k != "file_size"}


def test_clean_stale_keeps_temps_of_live_writers(tmp_path):
    import os

    dst = tmp_path / "a_0.mp4"
    live = tmp_path / f".a_0.mp4.tmp-{os.getppid()}.mp4"
    live.write_bytes(b"x")
    assert clean_stale(dst) == 0 and live.exists()


def test_names_are_sanitised_and_mirror_never_escapes_save_dir(samples, tmp_path):
    root, _ = samples
    save = tmp_path / "out"
    op = build("cut", {"save_dir": str(save), "mirror": True})
    row = scene_row(root / "cuts/three_cuts.mp4", 0, 10, source_id="../we ird:id", index=3,
                    relpath="../../sub dir/x/../three cuts.mp4")
    [out] = apply(op, [row])
    path = Path(out["path"])
    assert path.name == "we_ird_id_3.mp4"
    assert path.resolve().is_relative_to(save.resolve())
    assert path.parent.relative_to(save).parts == ("sub_dir", "x")
    flat = build("cut", {"save_dir": str(save)}).clip_path(row)
    assert flat == save / "we_ird_id_3.mp4"


def test_source_row_with_scenes_fans_out_and_dropped_scenes_pass_uncut(samples, tmp_path):
    root, _ = samples
    src = root / "cuts/three_cuts.mp4"
    row = {"id": "three", "path": str(src), "relpath": "cuts/three_cuts.mp4", "fps": 24.0,
           "scene_frames": [[0, 30], [54, 90], [90, 120]], "scene_times": [[0, 1.25], [2.25, 3.75], [3.75, 5.0]],
           "scene_scores": [{"flow": 1.0}, {"flow": 2.0}, {"flow": 3.0}],
           "scene_dropped": [[30, 54, "too short"]]}
    out = apply(build("cut", {"save_dir": str(tmp_path)}), [row])
    assert [r["clip_index"] for r in out] == [0, 1, 2, 3]
    dropped = out[1]
    assert dropped["drop_reason"] == "scenes: too short" and dropped["path"] == str(src)
    cut = [r for r in out if not r.get("drop_reason")]
    assert [r["num_frames"] for r in cut] == [30, 36, 30]
    assert [r["flow"] for r in cut] == [1.0, 2.0, 3.0]
    assert all(r["source_path"] == str(src) and r["source_id"] == "three" for r in cut)
    assert all_files(tmp_path) == ["three_0.mp4", "three_2.mp4", "three_3.mp4"]


def test_row_without_scenes_is_an_error_unless_whole(samples, tmp_path):
    root, _ = samples
    src = root / "cuts/two_cuts_small.mp4"
    row = {"id": "two", "path": str(src)}
    [err] = apply(build("cut", {"save_dir": str(tmp_path)}), [dict(row)])
    assert err["error"].startswith("cut: CutError: row has no scenes; run `scenes` first")
    [whole] = apply(build("cut", {"save_dir": str(tmp_path), "whole": True}), [dict(row)])
    assert (whole["start_frame"], whole["end_frame"], whole["num_frames"]) == (0, 75, 75)
    assert Path(whole["path"]).name == "two_0.mp4" and whole["source_path"] == str(src)


def test_already_cut_rows_pass_through(samples, tmp_path):
    root, _ = samples
    op = build("cut", {"save_dir": str(tmp_path)})
    [row] = apply(op, [scene_row(root / "cuts/three_cuts.mp4", 0, 10)])
    assert apply(op, [row]) == [row]


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({}, "save_dir"),
        ({"save_dir": "x", "crf": 52}, "crf"),
        ({"save_dir": "x", "crf": -1}, "crf"),
        ({"save_dir": "x", "preset": "turbo"}, "preset"),
        ({"save_dir": "x", "fps": 0}, "fps"),
        ({"save_dir": "x", "shorter_side": 15}, "shorter_side"),
        ({"save_dir": "x", "shorter_side": 101}, "shorter_side"),
        ({"save_dir": "x", "mode": "fast"}, "mode"),
        ({"save_dir": "x", "mode": "copy", "fps": 10}, "fps"),
        ({"save_dir": "x", "keep_audio": "yes"}, "keep_audio"),
    ],
)
def test_bad_parameters_raise_config_error_naming_op_and_key(params, key):
    with pytest.raises(ConfigError, match=f"op 'cut': key '{key}'"):
        build("cut", params)


def test_cli_cut_writes_clips_and_manifest(samples, tmp_path):
    from vidcurate.cli import app

    root, _ = samples
    src = root / "cuts/three_cuts.mp4"
    rows = [scene_row(src, 0, 30, index=0), scene_row(src, 30, 54, index=1, drop_reason="select: flow >= 1"),
            scene_row(src, 54, 90, index=2)]
    manifest.write(rows, tmp_path / "in.jsonl")
    args = ["cut", str(tmp_path / "in.jsonl"), "--save-dir", str(tmp_path / "clips"), "-o",
            str(tmp_path / "out.jsonl"), "--shorter-side", "90", "--workers", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["clip_index"] for r in out] == [0, 2]
    assert all(r["height"] == 90 and Path(r["path"]).is_file() for r in out)
    bad = CliRunner().invoke(app, [*args, "--crf", "99"])
    assert bad.exit_code == 2 and "crf" in bad.output


@pytest.mark.parametrize(
    "name", ["pyscenedetect_goldeneye-vfr-drop3.mp4", "pyscenedetect_issue-134-rotate.mp4",
             "moviepy_big_buck_bunny_0_30.webm", "kivy_cityCC0.mpg"])
def test_real_footage_encode_and_copy_hold_the_planned_frames(external, tmp_path, name):
    src = external / name
    table = frame_table(src)
    start, end = table.num_frames // 2, table.num_frames // 2 + 10
    op = build("cut", {"save_dir": str(tmp_path / "e")})
    [enc] = apply(op, [scene_row(src, start, end)])
    assert enc["num_frames"] == 10 and enc["rotation"] == 0
    [cp] = apply(build("cut", {"save_dir": str(tmp_path / "c"), "mode": "copy"}), [scene_row(src, start, end)])
    assert cp["start_frame"] <= start and cp["end_frame"] >= end
    assert cp["num_frames"] == cp["end_frame"] - cp["start_frame"]
    source = probe(src)
    assert (cp["width"], cp["height"]) == (source["width"], source["height"])
    assert (enc["width"], enc["height"]) == (source["width"] // 2 * 2, source["height"] // 2 * 2)


@pytest.mark.parametrize("changed", [{"crf": 30}, {"preset": "ultrafast"}, {"mode": "copy"}])
def test_a_clip_written_with_other_settings_is_written_again_not_reused(samples, tmp_path, changed):
    root, _ = samples
    rows = [scene_row(root / "cuts/three_cuts.mp4", 30, 54, index=1)]
    [first] = apply(build("cut", {"save_dir": str(tmp_path)}), rows)
    [same] = apply(build("cut", {"save_dir": str(tmp_path)}), rows)
    assert media_cut.ENCODES[first["path"]] == 1 and same["path"] == first["path"]
    [other] = apply(build("cut", {"save_dir": str(tmp_path), **changed}), rows)
    assert "error" not in other
    assert media_cut.ENCODES[other["path"]] == 1 + (other["path"] == first["path"])
    assert media_cut.written_tag(Path(other["path"])) == (
        media_cut.plan_tag(other["start_frame"], other["end_frame"], keep_audio=False) if "mode" in changed
        else media_cut.plan_tag(30, 54, media_cut.EncodeSettings(**{"crf": 18, "preset": "veryfast", **changed})))


def test_a_dead_writer_left_as_a_zombie_counts_as_gone():
    import subprocess
    import sys
    import time

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.time() + 30
    while time.time() < deadline and Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z":
        time.sleep(0.01)
    try:
        assert not media_cut._alive(child.pid), "exited but not reaped: its temp files are stale"
        assert media_cut._alive(os.getpid())
    finally:
        child.wait()


def test_an_open_sora_meta_csv_with_timestamps_is_cut_by_its_spans(samples, tmp_path):
    from typer.testing import CliRunner

    from vidcurate.cli import app

    root, _ = samples
    src = root / "cuts/three_cuts.mp4"
    meta = tmp_path / "meta_timestamp.csv"
    stamps = "[('00:00:00.000', '00:00:01.250'), ('00:00:01.250', '00:00:02.250'), ('00:00:09.000', '00:00:10.000')]"
    manifest.write([{"path": str(src), "id": "three", "timestamp": stamps}], meta)
    out = tmp_path / "clips.csv"
    result = CliRunner().invoke(app, ["cut", str(meta), "--save-dir", str(tmp_path / "clips"), "-o", str(out),
                                      "--keep-dropped"])
    assert result.exit_code == 0, result.output
    rows = manifest.read(out)
    cut = [(r["start_frame"], r["end_frame"], r["num_frames"]) for r in rows if not r.get("drop_reason")]
    assert cut == [(0, 30, 30), (30, 54, 24)]
    assert [r["drop_reason"] for r in rows if r.get("drop_reason")] == [
        "scenes: timestamp span 9-10 s holds no frame"]
    assert all(Path(r["path"]).is_file() for r in rows if not r.get("drop_reason"))


@pytest.mark.parametrize("stamps", ["not a list", "[('00:00:01.000',)]", "[('aa:bb', '00:00:01.000')]"])
def test_a_malformed_timestamp_is_an_error_row(samples, tmp_path, stamps):
    root, _ = samples
    row = {"id": "x", "path": str(root / "cuts/three_cuts.mp4"), "timestamp": stamps}
    [out] = apply(build("cut", {"save_dir": str(tmp_path)}), [row])
    assert out["error"].startswith("cut: ValueError:") and all_files(tmp_path) == []
