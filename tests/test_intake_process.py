"""`ketscreen intake` as a real process: killed with SIGKILL, and in a pseudo-terminal."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from typer.testing import CliRunner

from ketscreen.cli import app
from ketscreen.core.model import Questionnaire
from ketscreen.errors import ExitCode
from ketscreen.io.session_store import SessionStore
from tests.conftest import full_answers
from tests.test_intake import keys_for

TIMEOUT = 90  # an upper bound for a loaded machine, never a race


def env_for(home: Path, tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "KETSCREEN_HOME": str(home),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }


def answers_on_disk(home: Path) -> int:
    """How many answers the one session file holds now (0 before it exists)."""
    files = list((home / "sessions").glob("*.json"))
    if not files:
        return 0
    return len(json.loads(files[0].read_text(encoding="utf-8"))["answers"])


def wait_for(home: Path, count: int) -> None:
    deadline = time.monotonic() + TIMEOUT
    while answers_on_disk(home) < count:
        assert time.monotonic() < deadline, f"the session never reached {count} answers"
        time.sleep(0.02)


def test_sigkill_between_answers_leaves_the_last_answer_then_resumes(
    isolated_env: Path, tmp_path: Path, questionnaire: Questionnaire
) -> None:
    typed = keys_for(questionnaire, full_answers(craving="yes"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ketscreen", "intake", "--client", "C-kill", "--region", "UK"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env_for(isolated_env, tmp_path),
        text=True,
    )
    assert proc.stdin is not None
    try:
        proc.stdin.write("\n")  # past the welcome
        for count, line in enumerate(typed[:6], start=1):
            proc.stdin.write(f"{line}\n")
            proc.stdin.flush()
            wait_for(isolated_env, count)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=TIMEOUT)
    finally:
        proc.stdin.close()
    assert proc.returncode == -signal.SIGKILL

    store = SessionStore()
    [summary], broken = store.summaries()
    assert broken == []
    session = store.load(summary.id, questionnaire)
    assert session.status.value == "in-progress"
    assert len(session.answers) == 6
    # The killed process's lock file stays behind (no answers in it), but its lock went
    # with the process: the session resumes at once, and then the lock file is gone.
    assert sorted(os.listdir(store.folder)) == [f".{summary.id}.lock", f"{summary.id}.json"]
    assert "C-kill" not in (store.folder / f".{summary.id}.lock").read_text(encoding="utf-8")

    result = CliRunner().invoke(
        app,
        ["intake", "--resume", summary.id, "--region", "UK"],
        input="".join(f"{line}\n" for line in ["", *typed[6:], "", ""]),
    )
    assert result.exit_code == 0, result.stdout[-2000:]
    assert "Question 7 of 32." in result.stdout
    assert sorted(os.listdir(store.folder)) == [f"{summary.id}.json"]
    done = store.load(summary.id, questionnaire)
    assert done.status.value == "completed"
    assert done.result().criteria_count == 1  # type: ignore[union-attr]


def spawn(tmp_path: Path, home: Path, *args: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "ketscreen", "intake", *args, "--region", "UK"],
        env=env_for(home, tmp_path),
        cwd=str(tmp_path),
        dimensions=(50, 100),
        encoding="utf-8",
        timeout=TIMEOUT,
    )


@pytest.fixture
def children() -> Iterator[list[pexpect.spawn]]:
    spawned: list[pexpect.spawn] = []
    yield spawned
    for child in spawned:
        child.close(force=True)


@pytest.mark.pty
def test_ctrl_c_in_a_terminal_then_resume(
    tmp_path: Path, questionnaire: Questionnaire, children: list[pexpect.spawn]
) -> None:
    home = tmp_path / "home"
    typed = keys_for(questionnaire, full_answers(tolerance="yes", craving="yes"))
    child = spawn(tmp_path, home, "--client", "C-pty", "--counselor", "Sam")
    children.append(child)
    child.expect_exact("explain the limits of confidentiality")
    child.expect_exact("Press Enter to start")
    assert "\x1b[" in child.before  # a real terminal: colour and boxes
    child.sendline("")
    for line in typed[:3]:
        child.expect_exact("Client's answer:")
        child.sendline(line)
    child.expect_exact("Client's answer:")
    child.sendintr()
    child.expect(r"To go on: ketscreen intake --resume (\S+)")
    session_id = child.match.group(1)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == ExitCode.INTERRUPTED
    assert answers_on_disk(home) == 3

    again = spawn(tmp_path, home, "--resume", session_id)
    children.append(again)
    again.expect_exact("3 of 32 questions answered so far")
    again.expect_exact("Press Enter to go on")
    again.sendline("")
    again.expect_exact("Question 4 of 32")
    for line in typed[3:]:
        again.expect_exact("Client's answer:")
        again.sendline(line)
    again.expect_exact("Your choice:")
    again.sendline("")
    again.expect_exact("General note (Enter alone to finish):")
    again.sendline("")
    again.expect_exact("Some warning signs")
    steps = re.escape("Next steps (Enter alone to leave out):")
    while again.expect([r"Press Enter to read on", steps]) == 0:
        again.sendline("")  # a long result is shown a page at a time
    again.sendline("Call the drug service on Monday; tell my GP about the bladder pain")
    again.expect_exact("Next steps saved.")
    again.expect_exact(f"Session {session_id} completed and saved.")
    again.expect(pexpect.EOF)
    again.close()
    assert again.exitstatus == ExitCode.OK
    assert answers_on_disk(home) == 32
    [saved] = (home / "sessions").glob("*.json")
    assert json.loads(saved.read_text())["next_steps"]["text"] == (
        "Call the drug service on Monday; tell my GP about the bladder pain"
    )
