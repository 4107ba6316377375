"""The README stays the user's manual: every catalogued column, command and shipped recipe is documented."""

from __future__ import annotations

from pathlib import Path

from typer.main import get_command

from vidcurate.cli import app
from vidcurate.manifest import catalogue_markdown

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_column_table_is_the_catalogue() -> None:
    assert catalogue_markdown() in README, "run `python -m vidcurate.manifest` to refresh the README table"


def test_every_command_is_in_the_readme() -> None:
    names = sorted(get_command(app).commands)  # type: ignore[attr-defined]
    missing = [n for n in names if f"vidcurate {n}" not in README]
    assert not missing, f"commands missing from the README: {missing}"


def test_every_shipped_recipe_is_in_the_readme() -> None:
    missing = [p.name for p in (ROOT / "recipes").glob("*.yaml") if f"recipes/{p.name}" not in README]
    assert not missing


def test_the_cli_answers_help_without_loading_media_arrow_or_plotting_libraries() -> None:
    import subprocess
    import sys

    code = ("import sys; from typer.testing import CliRunner; from vidcurate.cli import app; "
            "out = CliRunner().invoke(app, ['--help']); assert out.exit_code == 0, out.output; "
            "print(sorted(m for m in ('av', 'cv2', 'pyarrow', 'matplotlib', 'torch', 'numpy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_export_help_names_every_export_format() -> None:
    from typer.testing import CliRunner

    from vidcurate.cli import app
    from vidcurate.export import FORMATS

    out = CliRunner().invoke(app, ["export", "--help"], terminal_width=200).output
    assert all(fmt in out for fmt in FORMATS)


def test_version_and_dry_run_from_the_command_line(tmp_path) -> None:
    from typer.testing import CliRunner

    from vidcurate import __version__
    from vidcurate.cli import app
    from vidcurate.media.synth import generate_bulk

    assert CliRunner().invoke(app, ["--version"]).output.strip() == f"vidcurate {__version__}"
    generate_bulk(tmp_path / "in", 3)
    out = CliRunner().invoke(app, ["run", str(ROOT / "recipes" / "default.yaml"), "-i", str(tmp_path / "in"),
                                   "-o", str(tmp_path / "out"), "--dry-run"], terminal_width=200)
    assert out.exit_code == 0, out.output
    assert "3 input rows in 1 shards; 0 already done" in out.output and "scenes, motion, cmotion" in out.output
    assert not (tmp_path / "out").exists()


def test_a_run_logs_a_line_per_shard_when_not_on_a_terminal_and_quiet_silences_it(tmp_path) -> None:
    from typer.testing import CliRunner

    from vidcurate.cli import app
    from vidcurate.media.synth import generate_bulk

    generate_bulk(tmp_path / "in", 3)
    (tmp_path / "r.yaml").write_text("name: logs\nshard_size: 1\nops:\n  - probe: {}\n")
    args = ["run", str(tmp_path / "r.yaml"), "-i", str(tmp_path / "in"), "-w", "0"]
    out = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "a")])
    assert out.exit_code == 0, out.output
    assert "logs: shard 2 done (3/3)" in " ".join(out.output.split())
    quiet = CliRunner().invoke(app, ["-q", *args, "-o", str(tmp_path / "b")])
    assert quiet.exit_code == 0 and "shard" not in quiet.output


def test_score_op_help_lists_the_ops_parameters_flags_and_columns_with_units() -> None:
    from typer.testing import CliRunner

    from vidcurate.cli import app

    out = CliRunner().invoke(app, ["score", "motion", "--help"], terminal_width=250)
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "--short-side VALUE │ int │ 128" in text and "--relative │ flag │ False" in text
    assert "flow │ float │ px/frame" in text
    generic = CliRunner().invoke(app, ["score", "--help"], terminal_width=250)
    assert generic.exit_code == 0 and "lists its parameters" in generic.output
    missing = CliRunner().invoke(app, ["score", "motion"])
    assert missing.exit_code == 2


def test_the_readme_examples_run_as_written(tmp_path, monkeypatch) -> None:
    """The README's example block, line by line, in an empty folder (the recipes folder linked in, as in a clone)."""
    import shlex

    from typer.testing import CliRunner

    from vidcurate.cli import app

    block = README.split("Examples:\n\n```bash\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line.split("  #")[0]) for line in block.splitlines() if line.strip()]
    assert commands and all(c[0] == "vidcurate" for c in commands)
    (tmp_path / "recipes").symlink_to(ROOT / "recipes")
    monkeypatch.chdir(tmp_path)
    for command in commands:
        result = CliRunner().invoke(app, command[1:])
        assert result.exit_code == 0, f"{shlex.join(command)}: {result.output}"
    assert (tmp_path / "train.csv").is_file() and list((tmp_path / "wds").glob("*.tar"))
    assert (tmp_path / "out" / "report.html").is_file()
