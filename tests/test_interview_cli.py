"""`ketscreen run` and bare `ketscreen` from the command line (not a terminal: plain mode)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketscreen.cli import app
from ketscreen.cli.run import run_without_typer, screener_options
from ketscreen.io.questionnaires import builtin_path

runner = CliRunner()
NO_USE = "\n3\n1\n\n\n"  # welcome, no use, no self-harm thoughts, review, finish


def test_run_in_plain_mode_when_not_a_terminal() -> None:
    result = runner.invoke(app, ["run", "--region", "UK"], input=NO_USE)
    assert result.exit_code == 0, result.stderr
    assert "Question 1 of up to 32" in result.stdout
    assert "No ketamine use in the past year" in result.stdout
    assert "\x1b[" not in result.stdout and "╭" not in result.stdout
    assert result.stderr == ""


def test_bare_ketscreen_runs_the_screener() -> None:
    result = runner.invoke(app, [], input="q\n")
    assert result.exit_code == 0
    assert "Ketamine use self-check" in result.stdout
    assert "You stopped the check. Nothing was saved." in result.stdout


def test_bare_ketscreen_takes_the_screeners_options() -> None:
    result = runner.invoke(app, ["--plain", "--region", "US"], input=NO_USE)
    assert result.exit_code == 0
    assert "Help shown for: United States (chosen with --region)" in result.stdout
    assert "988 Suicide & Crisis Lifeline" in result.stdout


def test_screener_options_before_another_command_are_a_usage_error() -> None:
    result = runner.invoke(app, ["--plain", "validate"])
    assert result.exit_code == 2
    assert "put them after the command" in result.stderr


def test_end_of_input_exits_1_with_one_line() -> None:
    result = runner.invoke(app, ["run", "--region", "UK"], input="\n1\n")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: input ended before the check was finished. Nothing was saved.\n"
    )
    assert result.stdout.endswith(
        "Need to talk to someone now? Samaritans: Call 116 123 (24/7, free)\n"
    )


def test_quit_exits_0() -> None:
    result = runner.invoke(app, ["run"], input="\nq\n")
    assert result.exit_code == 0
    assert "Nothing was saved." in result.stdout


def test_unknown_region_is_a_usage_error() -> None:
    result = runner.invoke(app, ["run", "--region", "XX"], input=NO_USE)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --region 'XX' is not known")


def test_region_from_environment_and_locale() -> None:
    bad = runner.invoke(app, ["run"], input=NO_USE, env={"KETSCREEN_REGION": "Mars"})
    assert bad.exit_code == 0
    assert "KETSCREEN_REGION='Mars' is not known" in bad.stderr
    assert "Help shown for: International (no region detected)" in bad.stdout
    env = {"KETSCREEN_REGION": "ie"}
    assert (
        "Ireland (from KETSCREEN_REGION)"
        in runner.invoke(app, ["run"], input=NO_USE, env=env).stdout
    )
    from_locale = runner.invoke(app, ["run"], input=NO_USE, env={"LANG": "en_AU.UTF-8"})
    assert "Australia (from your system language settings)" in from_locale.stdout


def test_another_questionnaire_file(tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    shutil.copy(builtin_path(), copy)
    result = runner.invoke(app, ["run", "--questionnaire", str(copy)], input=NO_USE)
    assert result.exit_code == 0
    missing = runner.invoke(app, ["run", "--questionnaire", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 1
    assert "no such file" in missing.stderr


def test_scripted_through_a_pipe() -> None:
    """One answer per line on stdin, as the README shows."""
    done = subprocess.run(
        [sys.executable, "-m", "ketscreen", "run", "--region", "UK"],
        input=NO_USE,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Your answer: 3\n" in done.stdout
    assert "You have not used ketamine in the past 12 months." in done.stdout


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], {}),
        (["run"], {}),
        (["--plain"], {"plain": True}),
        (["run", "-r", "UK", "--plain"], {"region": "UK", "plain": True}),
        (["--region=ie"], {"region": "ie"}),
        (["run", "--questionnaire", "q.yaml"], {"questionnaire": Path("q.yaml")}),
        (
            ["--questionnaire=q.yaml", "--region", "US"],
            {"questionnaire": Path("q.yaml"), "region": "US"},
        ),
        (["run", "--instrument", "sds"], {"instrument": "sds"}),
        (["--instrument=sds", "--plain"], {"instrument": "sds", "plain": True}),
    ],
)
def test_screener_invocations_read_without_typer(
    argv: list[str], expected: dict[str, object]
) -> None:
    defaults: dict[str, object] = {
        "region": None,
        "plain": False,
        "questionnaire": None,
        "instrument": None,
    }
    assert screener_options(argv) == {**defaults, **expected}


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["run", "--help"],
        ["--version"],
        ["validate"],
        ["run", "--region"],
        ["--region", "--plain"],
        ["--region="],
        ["--instrument"],
        ["run", "run"],
        ["--plain=yes"],
        ["-x"],
    ],
)
def test_everything_else_is_left_to_typer(argv: list[str]) -> None:
    assert screener_options(argv) is None


def test_the_screener_starts_without_importing_pydantic() -> None:
    """Typer imports pydantic to coerce options; the screener's own path must not."""
    code = (
        "import sys\n"
        "sys.argv = ['ketscreen', 'run', '--region', 'UK']\n"
        "from ketscreen.__main__ import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code, 'pydantic' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input="q\n", capture_output=True, text=True, timeout=60
    )
    assert done.stderr == "exit 0 False\n"
    assert "You stopped the check. Nothing was saved." in done.stdout


def test_errors_on_the_fast_path_are_the_same_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ketscreen", "--region", "XX"],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (
        2,
        "Error: --region 'XX' is not known; use one of US, UK, CA, AU, IE, INTL\n",
    )


def test_run_without_typer_returns_the_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_without_typer(["--help"]) is None  # Typer's to answer
    assert run_without_typer(["run", "--region", "XX"]) == 2
    assert capsys.readouterr().err.startswith("Error: --region 'XX' is not known")
