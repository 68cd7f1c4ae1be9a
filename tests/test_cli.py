"""The command-line surface: version, help, validate, show, error handling, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ketscreen import __version__
from ketscreen.cli import app
from ketscreen.cli.app import handle_errors
from ketscreen.errors import ExitCode, KetscreenError
from tests.helpers import commands

runner = CliRunner()


def command_names() -> list[str]:
    return sorted(commands())


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"ketscreen {__version__}\n")


def test_python_dash_m_help_in_a_subprocess() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ketscreen", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "100", "TERM": "dumb"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Not a diagnosis" in done.stdout
    for name in command_names():
        assert name in done.stdout


@pytest.mark.parametrize("name", command_names())
def test_every_command_has_help(name: str) -> None:
    result = runner.invoke(app, [name, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    command = commands()[name]
    assert command.help and len(command.help.strip()) > 20, f"{name} needs real help text"
    for param in command.params:
        if param.param_type_name == "option" and not getattr(param, "hidden", False):
            assert param.help, f"{name} {param.opts} has no help"


def test_unknown_command_and_option_are_usage_errors() -> None:
    assert runner.invoke(app, ["frobnicate"]).exit_code == ExitCode.USAGE
    assert runner.invoke(app, ["validate", "--frob"]).exit_code == ExitCode.USAGE


def test_validate_builtin() -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 5, lines
    assert lines[0].endswith(
        "ketamine-1.0.0.yaml: OK, questionnaire ketamine 1.0.0: 7 sections, 30 items, 7 bands, "
        f"18 flags; 9 examples agree with the engine; sha256 {lines[0].rsplit(' ', 1)[1]}"
    )
    assert lines[1].endswith(
        "ketamine-1.1.0.yaml: OK, questionnaire ketamine 1.1.0: 8 sections, 32 items, 7 bands, "
        f"19 flags; 14 examples agree with the engine; sha256 {lines[1].rsplit(' ', 1)[1]}"
    )
    assert lines[2].endswith(
        "sds-1.0.0.yaml: OK, questionnaire sds 1.0.0: 1 section, 5 items, 2 bands, "
        f"0 flags; 4 examples agree with the engine; sha256 {lines[2].rsplit(' ', 1)[1]}"
    )
    assert lines[3].split(": OK, ")[0].endswith("resources.yaml")
    assert lines[4].endswith("releases.yaml: OK, 3 released versions")


def test_validate_missing_file_and_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path / 'nope.yaml'}: no such file; check the path\n"
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "is a folder; give the path of a questionnaire file" in result.stderr


@pytest.mark.parametrize("width", [60, 120])
def test_show_lists_how_a_score_is_made(width: int) -> None:
    result = runner.invoke(app, ["show"], env={"COLUMNS": str(width)})
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= width
    out = " ".join(result.stdout.replace("│", " ").split())
    for text in (
        "Ketamine use self-check (ketamine 1.1.0)",
        "Section signs: Warning signs - past 12 months",
        "more_than_intended",
        "use_12m = yes",
        "criteria_count: Warning signs (of 10) = more_than_intended + cut_down_failed",
        "prescribed_only",
        "severe",
        "self_harm_now",
        "emergency",
        "routes includes inject",
    ):
        assert text in out, text
    # every code is visible in full, even at 60 columns
    assert "…" not in result.stdout
    assert "once_twice=1" in result.stdout.replace("\n", "").replace("│", "").replace(" ", "")


def test_bare_command_does_not_crash() -> None:
    result = runner.invoke(app, [], input="")
    assert result.exit_code in (0, 1)
    assert "Traceback" not in result.stdout + result.stderr


def _app_with(func: object) -> typer.Typer:
    local = typer.Typer()
    local.command()(handle_errors(func))  # type: ignore[arg-type]
    local.command("other")(lambda: None)
    return local


def test_ctrl_c_exits_130() -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    result = runner.invoke(_app_with(interrupted), ["interrupted"])
    assert result.exit_code == 130
    assert "Interrupted. Nothing was saved." in result.stderr


def test_our_errors_are_one_line_with_their_code() -> None:
    class UsageLike(KetscreenError):
        exit_code = ExitCode.USAGE

    def failing() -> None:
        raise UsageLike("what went wrong; what to do")

    result = runner.invoke(_app_with(failing), ["failing"])
    assert (result.exit_code, result.stderr) == (2, "Error: what went wrong; what to do\n")


def test_a_bug_prints_no_traceback_and_no_data(monkeypatch: pytest.MonkeyPatch) -> None:
    def buggy() -> None:
        secret = "my private answer"
        raise ValueError(secret)

    result = runner.invoke(_app_with(buggy), ["buggy"])
    assert result.exit_code == 1
    assert "unexpected problem (ValueError)" in result.stderr
    assert "my private answer" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    monkeypatch.setenv("KETSCREEN_DEBUG", "1")
    result = runner.invoke(_app_with(buggy), ["buggy"])
    assert isinstance(result.exception, ValueError)


def test_plain_mode_has_no_spaces_at_line_ends_except_prompts() -> None:
    result = runner.invoke(
        app, ["run", "--region", "US"], input="\n3\n1\n\n\n", env={"COLUMNS": "70"}
    )
    assert result.exit_code == 0
    padded = [line for line in result.stdout.splitlines() if line.endswith(" ")]
    assert padded, "the prompts keep their space"
    assert all(line.rstrip().endswith(":") for line in padded), padded
