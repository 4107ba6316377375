"""`select`: expressions, drop reasons, config errors and the Open-Sora style shortcuts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from vidcurate import manifest
from vidcurate.cli import app, shortcut_expression
from vidcurate.errors import ConfigError
from vidcurate.ops.base import build


def test_select_marks_failing_rows_with_the_first_failing_clause() -> None:
    op = build("select", {"where": "num_frames >= 10 and fps <= 30"})
    assert "drop_reason" not in op.process({"num_frames": 12, "fps": 24})
    assert op.process({"num_frames": 12, "fps": 60})["drop_reason"] == "select: fps <= 30"


def test_missing_or_null_column_fails_its_clause_instead_of_crashing() -> None:
    op = build("select", {"where": "aes >= 4.5"})
    assert op.process({"path": "x"})["drop_reason"] == "select: aes >= 4.5"


def test_functions_and_membership_work() -> None:
    op = build("select", {"where": "'pan' in cmotion or isnull(cmotion) and abs(flow) < 2"})
    assert "drop_reason" not in op.process({"cmotion": "pan_left"})
    assert "drop_reason" not in op.process({"flow": -1.0})
    assert "drop_reason" in op.process({"cmotion": "static", "flow": 5.0})


@pytest.mark.parametrize("where", ["__import__('os')", "x.y > 1", "num_frames >=", "[i for i in x]"])
def test_unsafe_or_invalid_expressions_fail_at_construction_naming_op_and_key(where: str) -> None:
    with pytest.raises(ConfigError, match="op 'select': key 'where'"):
        build("select", {"where": where})


@pytest.mark.parametrize(
    ("flag", "value", "keeps", "drops"),
    [
        ("--fmin", "10", {"num_frames": 10}, {"num_frames": 9}),
        ("--fmax", "10", {"num_frames": 10}, {"num_frames": 11}),
        ("--hwmax", "921600", {"height": 720, "width": 1280}, {"height": 1080, "width": 1920}),
        ("--fpsmax", "30", {"fps": 30.0}, {"fps": 60.0}),
        ("--dmin", "2", {"duration": 2.0}, {"duration": 1.0}),
        ("--dmax", "20", {"duration": 20.0}, {"duration": 21.0}),
        ("--aesmin", "4.5", {"aes": 5.0}, {"aes": 4.0}),
        ("--flowmin", "0.5", {"flow": 0.6}, {"flow": 0.1}),
        ("--flowmax", "8", {"flow": 7.0}, {"flow": 9.0}),
        ("--ocrmax", "0.02", {"ocr": 0.0}, {"ocr": 0.3}),
        ("--matchmin", "0.2", {"match": 0.3}, {"match": 0.1}),
        ("--remove-empty-caption", None, {"text": "a cat"}, {"text": ""}),
    ],
)
def test_each_shortcut_keeps_and_drops_the_right_rows(
    tmp_path: Path, flag: str, value: str | None, keeps: dict, drops: dict
) -> None:
    src = manifest.write([{"path": "keep", "id": "k", **keeps}, {"path": "drop", "id": "d", **drops}],
                         tmp_path / "in.jsonl")
    args = ["select", str(src), "-o", str(tmp_path / "out.jsonl"), flag] + ([value] if value else [])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert [Path(r["path"]).name for r in manifest.read(tmp_path / "out.jsonl")] == ["keep"]


def test_shortcuts_combine_with_where() -> None:
    expr = shortcut_expression("fps > 1", {"fmin": 5, "fmax": None}, False)
    assert expr == "(fps > 1) and num_frames >= 5"


def test_keep_dropped_keeps_rows_with_their_reason(tmp_path: Path) -> None:
    src = manifest.write([{"path": "a", "id": "a", "fps": 60.0}], tmp_path / "in.jsonl")
    out = tmp_path / "out.parquet"
    result = CliRunner().invoke(app, ["select", str(src), "-o", str(out), "--fpsmax", "30", "--keep-dropped"])
    assert result.exit_code == 0, result.output
    assert manifest.read(out)[0]["drop_reason"] == "select: fps <= 30.0"


def test_a_column_no_row_has_is_an_error_with_a_suggestion_before_anything_is_written(tmp_path: Path) -> None:
    src = manifest.write([{"path": "a", "id": "a", "duration": 3.0}], tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["select", str(src), "-o", str(out), "--where", "durration >= 1"],
                                terminal_width=200)
    assert result.exit_code == 2
    assert "unknown column 'durration'; did you mean 'duration'?" in " ".join(result.output.split())
    assert not out.exists()


def test_a_recipe_select_on_an_unknown_column_fails_before_any_video_is_opened(tmp_path: Path) -> None:
    from vidcurate import api, recipe
    from vidcurate.errors import ConfigError
    from vidcurate.media import decode
    from vidcurate.media.synth import generate_bulk

    generate_bulk(tmp_path / "in", 2)
    text = "ops:\n  - probe: {}\n  - select: {where: \"duratoin >= 1\"}\n"
    decode.DECODES.clear()
    with pytest.raises(ConfigError, match="unknown column 'duratoin'; did you mean 'duration'"):
        api.run(recipe.parse(text), tmp_path / "in", tmp_path / "out", workers=0)
    assert not decode.DECODES and not (tmp_path / "out").exists()


def test_a_step_whose_every_row_has_an_error_exits_non_zero(tmp_path: Path) -> None:
    src = manifest.write([{"path": str(tmp_path / "missing.mp4"), "id": "m"}], tmp_path / "in.jsonl")
    result = CliRunner().invoke(app, ["probe", str(src), "-o", str(tmp_path / "out.jsonl")], terminal_width=200)
    assert result.exit_code == 1 and "every row has an error" in " ".join(result.output.split())
    assert manifest.read(tmp_path / "out.jsonl")[0]["error"].startswith("probe:")


@pytest.mark.parametrize(("where", "why"), [
    ("9**9**9 > 1", "exponent 387420489 is larger than 64"),
    ("num_frames ** 99999999 > 1", "exponent 99999999 is larger than 64"),
    ("len(codec * 10**10) > 1", "more than 10000 items"),
    ("num_frames / fps > 1", "ZeroDivisionError"),
])
def test_runaway_or_impossible_arithmetic_fails_its_clause_with_the_reason(where: str, why: str) -> None:
    op = build("select", {"where": where})
    row = op.process({"num_frames": 10, "fps": 0, "codec": "h264"})
    assert row["drop_reason"].startswith(f"select: {where} (") and why in row["drop_reason"]


@pytest.mark.parametrize("where", ["-" * 100_000 + "1 > 0", "not " * 3000 + "x", "(" * 500 + "1" + ")" * 500])
def test_huge_or_deeply_nested_expressions_are_rejected_with_one_line(where: str) -> None:
    with pytest.raises(ConfigError, match="op 'select': key 'where'"):
        build("select", {"where": where})


def test_a_6000_clause_expression_builds_and_names_its_failing_clause() -> None:
    op = build("select", {"where": " and ".join(f"x{i} > {i}" for i in range(6000))})
    assert op.process({f"x{i}": i + 1 for i in range(6000)}).get("drop_reason") is None
    assert op.process({f"x{i}": i + (i != 5999) for i in range(6000)})["drop_reason"] == "select: x5999 > 5999"
    assert op.process({f"x{i}": i + 1 for i in range(6000)}).get("drop_reason") is None


def test_a_type_error_on_every_row_is_a_configuration_error_before_anything_is_written(tmp_path: Path) -> None:
    src = manifest.write([{"path": "a", "id": "a", "codec": "h264"}, {"path": "b", "id": "b", "codec": "vp9"}],
                         tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["select", str(src), "-o", str(out), "--where", "codec > 5"])
    assert result.exit_code == 2 and "cannot be evaluated on any row" in " ".join(result.output.split())
    assert not out.exists()
