"""Ctrl-C, SIGTERM, SIGHUP and SIGKILL against the real `ketscreen` process.

Whatever moment a signal arrives (imports, option parsing, worker start, reading,
scoring, writing), the outcome is one of two, and both are checked every time:
interrupted (exit 130, "Interrupted" on stderr, no output file, no temporary file) or
finished first (exit 0, the whole output). Never a traceback. The moments are spread
by waiting different times, but no assertion depends on which moment was hit, so a busy
machine only changes which of the two outcomes each run has.

The wait starts once the process has installed its signal handlers, read from the
kernel (/proc/PID/status, SigCgt): before that, Python's own start-up applies.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest

from ketscreen import interrupts
from ketscreen.core.model import Questionnaire
from ketscreen.io.atomic import atomic_write, remove_abandoned
from ketscreen.io.session_store import SessionStore
from tests.conftest import full_answers
from tests.test_intake import keys_for
from tests.test_intake_process import answers_on_disk, env_for, wait_for

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="reads signal state from Linux /proc"
)

TIMEOUT = 120  # generous: a loaded 2-core machine is slow, and nothing here races it
ROWS = 20_000
FAILURE_SIGNS = ("Traceback", "Exception ignored", "leaked", "unexpected problem")


def _csv(folder: Path, count: int) -> Path:
    answers = full_answers(routes="snort")
    header = ["respondent_id", *answers]
    rows = [",".join(header)] + [
        ",".join([f"r{n}", *(str(v) for v in answers.values())]) for n in range(count)
    ]
    source = folder / f"in-{count}.csv"
    source.write_text("\n".join(rows) + "\n")
    return source


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _csv(tmp_path_factory.mktemp("signals"), ROWS)


KILL_ROWS = 200_000
"""Enough work that the workers are still running when the test looks for them, however
fast or busy the machine: the scoring takes longer exactly when the test does too."""


def catches(pid: int, signum: int) -> bool:
    """Whether the process has a handler for `signum` (the kernel's SigCgt mask)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


def start_score(source: Path, out: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "ketscreen", "score", str(source), "--jobs", "2", "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job is
    )
    deadline = time.monotonic() + TIMEOUT
    while not catches(process.pid, signal.SIGTERM) and process.poll() is None:
        assert time.monotonic() < deadline, "the handlers were never installed"
        time.sleep(0.002)
    return process


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def assert_one_of_two_outcomes(
    process: subprocess.Popen[str], folder: Path, out: Path, stderr: str
) -> bool:
    """Checks both allowed outcomes; True when the run was interrupted."""
    for sign in FAILURE_SIGNS:
        assert sign not in stderr, stderr[-2000:]
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    if process.returncode == 130:
        assert "Interrupted" in stderr
        assert not out.exists()
        return True
    assert process.returncode == 0, stderr[-2000:]
    assert len(out.read_text().splitlines()) == ROWS + 1  # the header and every record
    out.unlink()
    return False


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "delays"),
    [
        (signal.SIGINT, (0.0, 0.05, 0.15, 0.3, 0.5, 0.8, 1.2)),
        (signal.SIGTERM, (0.0, 0.3, 0.8)),
        (signal.SIGHUP, (0.0, 0.5)),
    ],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
def test_a_signal_at_any_moment_of_score_interrupts_cleanly(
    big_csv: Path, tmp_path: Path, signum: int, delays: tuple[float, ...]
) -> None:
    interrupted = []
    for delay in delays:
        out = tmp_path / "out.csv"
        process = start_score(big_csv, out)
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):  # it may have finished
            os.killpg(process.pid, signum)  # a terminal signals the whole job
        _, stderr = process.communicate(timeout=TIMEOUT)
        interrupted.append(assert_one_of_two_outcomes(process, tmp_path, out, stderr))
    # At once after the handlers are installed, Typer and the scorer are still loading.
    assert interrupted[0], "the first signal came too late to interrupt anything"


@pytest.mark.slow
def test_sigkill_leaves_no_worker_and_no_message_and_the_next_run_cleans_up(
    tmp_path: Path,
) -> None:
    big_csv = _csv(tmp_path, KILL_ROWS)
    out = tmp_path / "out.csv"
    process = start_score(big_csv, out)
    deadline = time.monotonic() + TIMEOUT
    # Once started, a worker lifts the signal block it inherited (after asking Linux to
    # end it with the main process). Before that moment, while the worker is still
    # being handed its start-up data, Python's multiprocessing owns the worker.
    while len(workers := [p for p in children_of(process.pid) if _is_started_worker(p)]) < 2:
        if process.poll() is not None:
            _, stderr = process.communicate(timeout=TIMEOUT)
            pytest.fail(f"the batch ended before its workers could be seen: {stderr[-2000:]}")
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.005)
    process.kill()  # the main process only, as the out-of-memory killer would
    _, stderr = process.communicate(timeout=TIMEOUT)
    for sign in FAILURE_SIGNS:
        assert sign not in stderr, stderr[-2000:]
    while [p for p in workers if Path(f"/proc/{p}").exists() and not _is_zombie(p)]:
        assert time.monotonic() < deadline, "a worker outlived the main process"
        time.sleep(0.02)

    again = subprocess.run(
        [sys.executable, "-m", "ketscreen", "score", str(big_csv), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert len(out.read_text().splitlines()) == KILL_ROWS + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [big_csv.name, "out.csv"]


def _is_started_worker(pid: int) -> bool:
    try:
        if b"spawn_main" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return False
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    blocked = next(line for line in status.splitlines() if line.startswith("SigBlk:"))
    return not int(blocked.split()[1], 16) >> (signal.SIGTERM - 1) & 1


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


def test_a_temporary_file_of_a_dead_process_is_removed_and_a_live_ones_kept(
    tmp_path: Path,
) -> None:
    dead_pid = _a_dead_pid()
    dead = tmp_path / f".out.csv.ketscreen-{dead_pid}-abc.tmp"
    live = tmp_path / f".out.csv.ketscreen-{os.getpid()}-def.tmp"
    other_target = tmp_path / f".other.csv.ketscreen-{dead_pid}-ghi.tmp"
    for path in (dead, live, other_target):
        path.write_text("respondent_id,band\nr1,")
    assert remove_abandoned(tmp_path, "out.csv") == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other_target.name])


def _a_dead_pid() -> int:
    """A process id that is free now (the process ended and was reaped)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.mark.pty
def test_a_closed_terminal_saves_the_intake_as_in_progress(
    isolated_env: Path, tmp_path: Path, questionnaire: Questionnaire
) -> None:
    typed = keys_for(questionnaire, full_answers(craving="yes"))
    child = pexpect.spawn(
        sys.executable,
        ["-m", "ketscreen", "intake", "--client", "C-hup", "--region", "UK"],
        env=env_for(isolated_env, tmp_path),
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(24, 80),
    )
    try:
        child.sendline("")  # past the welcome
        for count, line in enumerate(typed[:3], start=1):
            child.sendline(line)
            wait_for(isolated_env, count)
        child.kill(signal.SIGHUP)  # the terminal window was closed
        child.expect(pexpect.EOF)
        shown = child.before
    finally:
        child.close()
    assert child.exitstatus == 130, shown[-1500:]
    [summary], _ = SessionStore().summaries()
    assert summary.status == "in-progress"
    assert answers_on_disk(isolated_env) == 3


# -- the handler states, in this process ----------------------------------------------


@pytest.fixture
def handlers() -> Iterator[None]:
    """Install ketscreen's handlers here, and put pytest's back afterwards."""
    saved = {signum: signal.getsignal(signum) for signum in interrupts.SIGNALS}
    interrupts.install()
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        interrupts._State.installed = interrupts._State.holding = False
        interrupts._State.held = None


def test_a_signal_while_typer_parses_is_held_then_raised_when_the_command_starts(
    handlers: None,
) -> None:
    interrupts.hold()
    os.kill(os.getpid(), signal.SIGTERM)
    assert interrupts.held() == signal.SIGTERM  # nothing raised while held
    with pytest.raises(interrupts.Stopped, match="SIGTERM"), interrupts.live():
        pytest.fail("the held signal must be raised before the command runs")
    assert interrupts.held() is None


def test_inside_a_command_each_signal_raises_keyboard_interrupt(handlers: None) -> None:
    interrupts.hold()
    for signum in interrupts.SIGNALS:
        with pytest.raises(KeyboardInterrupt), interrupts.live():
            os.kill(os.getpid(), signum)
            time.sleep(5)  # interrupted long before this ends
    assert interrupts.held() is None


def test_after_the_work_a_signal_is_ignored(handlers: None) -> None:
    interrupts.quiet_exit()
    for signum in interrupts.SIGNALS:
        assert signal.getsignal(signum) is signal.SIG_IGN


def test_without_install_live_changes_nothing() -> None:
    before = signal.getsignal(signal.SIGINT)
    with interrupts.live():
        assert signal.getsignal(signal.SIGINT) is before
    interrupts.quiet_exit()
    assert signal.getsignal(signal.SIGINT) is before


def test_a_signal_ignored_at_start_stays_ignored(handlers: None) -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    interrupts.install()
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN


def test_a_signal_while_children_start_is_delivered_afterwards(handlers: None) -> None:
    reached = []
    with pytest.raises(KeyboardInterrupt), interrupts.live():
        with interrupts.blocked_while_forking():
            # To this thread: a signal to the process would go to a thread that does not
            # block it (pyarrow's and DuckDB's pools, once earlier tests started them).
            signal.pthread_kill(threading.get_ident(), signal.SIGINT)
            time.sleep(0.05)  # blocked: nothing is raised here
            reached.append("end of the blocked part")
        reached.append("after it")  # raised when the block ends, before this line
    assert reached == ["end of the blocked part"]


def test_a_signal_in_a_step_that_must_not_be_cut_waits_for_its_end(handlers: None) -> None:
    reached = []
    with pytest.raises(KeyboardInterrupt), interrupts.live():
        with interrupts.deferred():
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.05)  # held: nothing is raised here
            reached.append("the file is replaced and recorded")
        reached.append("after the step")  # raised when the step ends, before this
    assert reached == ["the file is replaced and recorded"]


def test_a_signal_as_the_temporary_file_is_made_leaves_no_file(
    handlers: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The moment between creating an output's temporary file and holding it open: a
    Ctrl-C (or SIGTERM) there still ends with no file left behind."""
    made = tempfile.mkstemp

    def mkstemp_then_signal(*args: Any, **kwargs: Any) -> tuple[int, str]:
        found = made(*args, **kwargs)
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
        time.sleep(0.05)  # the signal is handled by now, inside mkstemp's caller
        return found

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp_then_signal)
    with (
        pytest.raises(KeyboardInterrupt),
        interrupts.live(),
        atomic_write(tmp_path / "out.csv") as handle,
    ):
        handle.write("never")
    assert list(tmp_path.iterdir()) == []
