"""Where output goes wrong (issue #11, points 11 and 12): `-o X --force` never replaces
anything but a regular file, a full disk or /dev/full is one clear line and exit 1 for
every command, and a closed stdout (`| head -1`) exits quietly."""

from __future__ import annotations

import errno
import io
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ketscreen.cli import app, main
from ketscreen.cli.app import handle_errors
from ketscreen.core.model import Questionnaire
from ketscreen.errors import ExitCode
from ketscreen.io.atomic import OutputError, atomic_write, write_text_atomic
from ketscreen.io.session_store import SessionStore
from tests.conftest import full_answers

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60
MESSY = str(ROOT / "tests" / "assets" / "batch" / "messy.csv")
FULL = (
    "Error: standard output cannot be written (the disk is full), so the output is "
    "incomplete; free some space or send it elsewhere"
)


@pytest.fixture
def session_id(questionnaire: Questionnaire) -> str:
    store = SessionStore()
    session = store.create(questionnaire, "C-1", "Sam", at="2026-11-21T10:00:00Z")
    interview = session.interview()
    answers = full_answers()
    while not interview.finished:
        assert interview.current is not None
        interview.answer(answers[interview.current.id])
    session.record_answers(interview.answers, at="2026-11-21T10:01:00Z")
    session.complete(at="2026-11-21T10:02:00Z")
    store.save(session)
    return session.id


def commands(session_id: str, target: str) -> list[list[str]]:
    """Every command that writes its output to a file (`-o`), or to stdout."""
    return [
        ["score", MESSY, "-o", target],
        ["report", session_id, "-o", target],
        ["export", "fhir", "-o", target],
    ]


# -- 11. only regular files are replaced ---------------------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    yield path


def test_force_never_replaces_a_pipe(fifo: Path, session_id: str) -> None:
    """Before: `-o pipe --force` replaced the pipe (and, as root, /dev/full) with a file."""
    for args in commands(session_id, str(fifo)):
        result = runner.invoke(app, [*args, "--force"])
        assert result.exit_code == ExitCode.ERROR, args
        assert result.stderr.splitlines()[-1] == (
            f"Error: {fifo} is not a regular file (a device, pipe or socket); ketscreen only "
            "ever replaces regular files: give the name of a file"
        ), args
        assert stat.S_ISFIFO(fifo.lstat().st_mode), args
    assert sorted(p.name for p in fifo.parent.iterdir()) == ["pipe"]  # no temp file left


def test_the_screener_copy_is_never_written_over_a_device_or_pipe(fifo: Path) -> None:
    for force in (False, True):
        with pytest.raises(OutputError, match="is not a regular file"):
            write_text_atomic(fifo, "result", force=force)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_pipe_that_appears_while_writing_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with (
        pytest.raises(OutputError, match="is not a regular file"),
        atomic_write(target, force=True) as handle,
    ):
        handle.write("x")
        os.mkfifo(target)
    assert stat.S_ISFIFO(target.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_force_still_replaces_a_regular_file_and_a_link_to_one(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_text_atomic(real, "new", force=True)
    assert real.read_text() == "new"
    write_text_atomic(link, "newer", force=True)
    assert link.read_text() == "newer" and not link.is_symlink()  # the link itself replaced


# -- 12. a full disk, /dev/full, a closed pipe ---------------------------------------------


def run(args: list[str], home: Path, stdout: object, *, unbuffered: bool) -> tuple[int, str]:
    env = {**os.environ, "KETSCREEN_HOME": str(home), "LANG": "C.UTF-8"}
    env.pop("PYTHONUNBUFFERED", None)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "ketscreen", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=stdout,  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    return done.returncode, done.stderr


def stdout_commands(session_id: str) -> list[list[str]]:
    return [
        ["score", MESSY],
        ["report", session_id],
        ["sessions"],
        ["sessions", "--format", "json"],
        ["template"],
        ["export", "fhir"],
        ["run", "--plain", "--region", "UK"],
        ["validate"],
        ["--version"],
        ["--help"],
    ]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
def test_stdout_on_dev_full_is_one_clear_line(
    isolated_env: Path, session_id: str, unbuffered: bool
) -> None:
    """Before: "unexpected problem ... This is a bug" (or a traceback for --version)."""
    for args in stdout_commands(session_id):
        with open("/dev/full", "w") as full:
            code, err = run(args, isolated_env, full, unbuffered=unbuffered)
        assert code == ExitCode.ERROR, args
        errors = [line for line in err.splitlines() if not line.startswith("Warning:")]
        assert errors[-1:] == [FULL], (args, err)
        assert "Error:" not in "\n".join(errors[:-1]), (args, err)
        assert "Traceback" not in err and "unexpected" not in err, args


def test_a_closed_stdout_exits_quietly(isolated_env: Path, session_id: str) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # whoever read it has gone, as after `| head -1`
    try:
        for args in stdout_commands(session_id):
            code, err = run(args, isolated_env, write_end, unbuffered=False)
            assert code == ExitCode.ERROR, args
            assert "Error:" not in err and "Traceback" not in err, (args, err)
            assert "Exception ignored" not in err, args
    finally:
        os.close(write_end)


def test_stdout_to_a_file_on_a_full_disk(
    tiny_disk: Path, isolated_env: Path, session_id: str
) -> None:
    filler = tiny_disk / "filler"
    with filler.open("wb", buffering=0) as handle, pytest.raises(OSError):
        while True:
            handle.write(b"x" * 4096)
    for args in (["score", MESSY], ["report", session_id], ["export", "fhir"]):
        with open(tiny_disk / "out.txt", "w") as out:
            code, err = run(args, isolated_env, out, unbuffered=False)
        assert code == ExitCode.ERROR, args
        assert err.splitlines()[-1] == FULL, (args, err)
    for args in commands(session_id, str(tiny_disk / "out2.txt")):
        code, err = run(args, isolated_env, subprocess.DEVNULL, unbuffered=False)
        assert code == ExitCode.ERROR, args
        assert err.splitlines()[-1] == (
            f"Error: {tiny_disk / 'out2.txt'}: the disk is full; free some space and try again"
        ), (args, err)
        assert not (tiny_disk / "out2.txt").exists()


# -- the guard itself, in this process --------------------------------------------------


class Failing(io.StringIO):
    """A standard output whose every write fails the way `exc` says."""

    def __init__(self, exc: OSError) -> None:
        super().__init__()
        self.exc = exc
        self.buffer = self

    def write(self, text: object) -> int:
        raise self.exc

    def flush(self) -> None:
        raise self.exc


def printing(*lines: str) -> Callable[[], None]:
    @handle_errors
    def command() -> None:
        sys.stdout.writelines(lines)
        sys.stdout.buffer.write(b"raw")

    return command


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), FULL + "\n"),
        (
            OSError(errno.EIO, "Input/output error"),
            "Error: standard output cannot be written (Input/output error), so the output "
            "is incomplete; free some space or send it elsewhere\n",
        ),
        (BrokenPipeError(errno.EPIPE, "Broken pipe"), ""),
    ],
)
def test_a_failing_stdout_is_our_own_error_wherever_it_is_written(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    exc: OSError,
    said: str,
) -> None:
    monkeypatch.setattr(sys, "stdout", Failing(exc))
    with pytest.raises(typer.Exit) as stop:
        printing("a\n", "b\n")()
    assert stop.value.exit_code == ExitCode.ERROR
    assert capsys.readouterr().err == said
    assert isinstance(sys.stdout, Failing)  # put back as it was


def test_the_console_script_guards_typer_s_own_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for exc, said in (
        (OSError(errno.ENOSPC, "No space left on device"), FULL + "\n"),
        (BrokenPipeError(errno.EPIPE, "Broken pipe"), ""),
    ):
        monkeypatch.setattr(sys, "stdout", Failing(exc))
        assert main(["--version"]) == ExitCode.ERROR
        assert capsys.readouterr().err == said


def test_a_healthy_stdout_is_left_alone(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("ketscreen ")
