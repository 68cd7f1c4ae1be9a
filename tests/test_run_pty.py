"""The real command in a real pseudo-terminal (rich mode), driven with pexpect."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from ketscreen.errors import ExitCode

pytestmark = pytest.mark.pty
TIMEOUT = 90  # an upper bound for a loaded machine, never a race


def spawn(tmp_path: Path, *args: str, rows: int = 50, cols: int = 100) -> pexpect.spawn:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "KETSCREEN_HOME": str(tmp_path / "home"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }
    return pexpect.spawn(
        sys.executable,
        ["-m", "ketscreen", *args],
        env=env,
        cwd=str(tmp_path),
        dimensions=(rows, cols),
        encoding="utf-8",
        timeout=TIMEOUT,
    )


@pytest.fixture
def child(tmp_path: Path) -> Iterator[pexpect.spawn]:
    process = spawn(tmp_path, "run", "--region", "UK")
    yield process
    process.close(force=True)


def test_a_whole_check_in_a_terminal(child: pexpect.spawn, tmp_path: Path) -> None:
    child.expect_exact("Press Enter to start, or type q to stop:")
    assert "\x1b[" in child.before  # a terminal: colour and boxes
    child.sendline("")
    child.expect_exact("Question 1 of up to 32")
    child.expect_exact("Your answer:")
    child.sendline("3")
    child.expect_exact("Question 2 of 2")
    child.expect_exact("Your answer:")
    child.sendline("2")
    # crisis panel at once, before anything else
    child.expect_exact("Support is available now")
    child.expect_exact("Please talk to someone today")
    child.expect_exact("press Enter to go on")
    child.sendline("")
    child.expect_exact("Check your answers")
    child.expect_exact("Your choice:")
    child.sendline("")
    child.expect_exact("Support is available now")
    child.expect_exact("No ketamine use in the past year")
    save = "Save a copy (t or h), or press Enter to finish:"
    while child.expect_exact(["Press Enter to read on", save]) == 0:
        child.sendline("")  # a long result is shown a page at a time
    child.sendline("")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == ExitCode.OK
    assert os.listdir(tmp_path) == []  # nothing written (KETSCREEN_HOME was not created)


def test_ctrl_c_says_nothing_was_saved_and_exits_130(child: pexpect.spawn) -> None:
    child.expect_exact("Press Enter to start")
    child.sendline("")
    child.expect_exact("Your answer:")
    child.sendintr()
    child.expect_exact("Interrupted. Nothing was saved.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == ExitCode.INTERRUPTED


def test_a_long_result_pages_in_a_small_terminal(tmp_path: Path) -> None:
    child = spawn(tmp_path, "--region", "UK", rows=24, cols=60)  # bare `ketscreen`
    try:
        child.expect_exact("Press Enter to start")
        child.sendline("")
        for answer in ("3", "3"):  # no use; self-harm thoughts now
            child.expect_exact("Your answer:")
            child.sendline(answer)
        child.expect_exact("If you are in danger now, call 999.")
        child.expect_exact("press Enter to go on")
        child.sendline("")
        child.expect_exact("Your choice:")
        child.sendline("")
        # the first page opens with the crisis panel, and the crisis line is at its foot
        child.expect_exact("Support is available now")
        child.expect_exact("If you are in danger now, call 999.")
        child.expect_exact("Need to talk to someone now?")
        child.expect(r"Page 1 of (\d+): press Enter for more")
        pages = int(child.match.group(1))
        for _ in range(pages - 1):
            child.sendline("")
        child.expect_exact("Save a copy (t or h), b back, or Enter to finish:")
        child.sendline("")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == ExitCode.OK


def test_plain_mode_in_a_real_terminal_pauses_between_pages(tmp_path: Path) -> None:
    """--plain stays plain lines, but a person at a terminal is not left with the crisis
    panel and the band scrolled away: it pauses where the styled mode pages (#12)."""
    child = spawn(tmp_path, "run", "--plain", "--region", "UK", rows=24, cols=60)
    try:
        child.expect_exact("Press Enter to start")
        child.sendline("")
        for answer in ("3", "3"):  # no use; self-harm thoughts now
            child.expect_exact("Your answer:")
            child.sendline(answer)
        child.expect_exact("press Enter to go on")
        child.sendline("")
        child.expect_exact("Your choice:")
        child.sendline("")
        child.expect(r"Page 1 of (\d+): press Enter for more:")
        first = child.before
        assert "Support is available now" in first and "Your result" in first
        assert "\x1b[2J" not in first  # plain: no clearing
        pages = int(child.match.group(1))
        for _ in range(pages - 1):
            child.sendline("")
        child.expect_exact("Save a copy (t or h), b back, or Enter to finish:")
        child.sendline("")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == ExitCode.OK


def test_the_severity_of_dependence_scale_in_a_terminal(tmp_path: Path) -> None:
    """A second instrument, chosen by id: five questions, a total with no cut-off, and no
    safety questions; the disclaimer and the region's helplines as for any result."""
    child = spawn(tmp_path, "run", "--instrument", "sds", "--region", "UK", rows=50, cols=100)
    try:
        child.expect_exact("Severity of Dependence Scale (SDS) for ketamine")
        child.expect_exact("Press Enter to start, or type q to stop:")
        assert "\x1b[" in child.before  # a terminal: colour and boxes
        child.sendline("")
        for number, answer in enumerate(("2", "1", "3", "3", "2"), start=1):
            child.expect_exact(f"Question {number} of 5")
            child.expect_exact("Your answer:")
            child.sendline(answer)
        child.expect_exact("Check your answers")
        child.expect_exact("Your choice:")
        child.sendline("")
        child.expect_exact("Total worked out (no validated cut-off for ketamine)")
        child.expect_exact("SDS total (0 to 15; higher means more signs of dependence): 6.")
        save = "Save a copy (t or h), or press Enter to finish:"
        pages = ["Press Enter to read on", save]
        seen = ""
        while child.expect_exact(pages) == 0:
            seen += child.before
            child.sendline("")
        seen += child.before
        child.sendline("")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == ExitCode.OK
    for expected in ("Samaritans", "FRANK", "This is a screening tool, not a diagnosis"):
        assert expected in seen
    assert "warning signs" not in seen  # a total, not a count of signs
    assert "Support is available now" not in seen  # no safety question, no crisis panel
