"""`ketscreen intake`: a counselor's session, typed through the real command (plain mode)."""

from __future__ import annotations

import errno
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from ketscreen.cli import app
from ketscreen.core.model import DECLINED, ItemType, Questionnaire
from ketscreen.core.scoring import asked_items
from ketscreen.errors import ExitCode
from ketscreen.io.session_store import SessionStore
from ketscreen.ui.terminal import Terminal
from tests.conftest import full_answers

runner = CliRunner()
ENV = {"COLUMNS": "80"}
CRISIS_CODES = ("past_month", "now")
SAFETY_NOTE = "Asked about a plan: none; safety plan made with the client"


def keys_for(questionnaire: Questionnaire, answers: Mapping[str, object]) -> list[str]:
    """What a counselor types to give `answers`: choice numbers, `s` for declined, and
    after the crisis panel the safety note, then Enter."""
    typed: list[str] = []
    for item_id in asked_items(questionnaire, answers):  # type: ignore[arg-type]
        item = questionnaire.items[item_id]
        value = answers[item_id]
        if value == DECLINED:
            typed.append("s")
            continue
        codes = value if isinstance(value, list) else [value]
        typed.append(" ".join(str(item.codes.index(code) + 1) for code in codes))
        if item.type is not ItemType.MULTI and value in CRISIS_CODES:
            typed += [SAFETY_NOTE, ""]
    return typed


def intake(*args: str, lines: list[str]) -> Result:
    return runner.invoke(
        app, ["intake", *args, "--region", "UK"], input="".join(f"{x}\n" for x in lines), env=ENV
    )


def said(result: Result) -> str:
    """What the screen showed, with line wrapping undone."""
    return " ".join(result.stdout.split())


def only_session(home: Path) -> dict[str, Any]:
    files = sorted((home / "sessions").glob("*.json"))
    assert len(files) == 1
    doc: dict[str, Any] = json.loads(files[0].read_text(encoding="utf-8"))
    return doc


def tidy(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def test_a_short_intake_from_start_to_finish(isolated_env: Path) -> None:
    result = intake(
        "--client",
        "C-0042",
        "--counselor",
        "Sam",
        lines=["", "3", "a", "Said no use since last year", "1", "", "Calm, engaged", ""],
    )
    assert result.exit_code == 0, result.stderr
    doc = only_session(isolated_env)
    sid = doc["id"]
    out = tidy(result.stdout)
    welcome = out.split("Press Enter to start, or type q to stop:", 1)[0]
    assert welcome == (
        "\n"
        "Ketamine use self-check: counselor intake\n"
        "- Before you start, explain the limits of confidentiality to the client: what\n"
        "  stays private, who can read this record, and when you would have to share\n"
        "  information (for example, if someone is at risk of serious harm).\n"
        "- Client: C-0042. Counselor: Sam.\n"
        "- Read each question to the client and type their answer: a number, then Enter\n"
        "  (y or n on yes-or-no questions). a adds a note to the question, b goes back, s\n"
        "  is prefer not to say, ? is help, q stops.\n"
        "- The session is saved after every answer. If you are interrupted, it can be\n"
        "  resumed where it stopped.\n"
        "- Tell the client: this is a screening tool, not a diagnosis, and they can stop\n"
        "  at any point if they feel distressed (type q to stop).\n"
        "\n"
        "Help shown for: United Kingdom (chosen with --region). To change it, start again\n"
        "with --region US, UK, CA, AU, IE or INTL.\n"
        "Need to talk to someone now? Samaritans: Call 116 123 (24/7, free)\n"
    )
    in_order = [
        f"Session {sid} started; saved in {isolated_env / 'sessions'}.",
        "Question 1 of up to 32.",
        "Client's answer: 3",
        "Question 2 of 2.",
        "Client's answer: a",
        "Note on this question (press Enter alone to cancel): Said no use since last year",
        "Note saved with this question (Thoughts of being better off dead or of self-harm).",
        "Client's answer: 1",
        "Check the client's answers",
        "Thoughts of being better off dead or of self-harm: No [note]",
        "Your choice:",
        "General notes",
        "General note (Enter alone to finish): Calm, engaged",
        "Note saved.",
        "General note (Enter alone to finish):",
        "No ketamine use in the past year",
        "This is a screening tool, not a diagnosis.",
        f"Session {sid} completed and saved. Report: ketscreen report {sid} -o FILE",
    ]
    position = 0
    words = " ".join(out.split())
    for part in in_order:
        found = words.find(part, position)
        assert found >= 0, f"{part!r} missing or out of order"
        position = found + len(part)
    assert doc["status"] == "completed"
    assert doc["answers"] == {"use_12m": "no", "self_harm": "no"}
    assert [n["text"] for n in doc["item_notes"]["self_harm"]] == ["Said no use since last year"]
    assert [n["text"] for n in doc["general_notes"]] == ["Calm, engaged"]
    assert [e["event"] for e in doc["events"]] == ["started", "answered", "answered", "completed"]
    assert doc["result"]["band"] == "no_recent_use"
    assert result.stderr == ""


def test_a_full_intake_scores_like_the_engine(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    answers = full_answers(
        craving="yes", tolerance="yes", self_harm="past_month", routes=["snort", "inject"]
    )
    result = intake("--client", "C-1", lines=["", *keys_for(questionnaire, answers), "", ""])
    assert result.exit_code == 0, result.stdout[-2000:]
    doc = only_session(isolated_env)
    assert doc["status"] == "completed"
    assert doc["result"]["band"] == "mild"
    assert doc["result"]["top_flag_level"] == "crisis"
    assert "Support is available now" in result.stdout


def test_q_before_starting_writes_nothing(isolated_env: Path) -> None:
    result = intake("--client", "C-1", lines=["q"])
    assert result.exit_code == 0
    assert "Stopped before starting. Nothing was saved." in result.stdout
    assert not (isolated_env / "sessions").exists()


def test_q_stops_the_session_and_it_can_be_resumed(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    typed = keys_for(questionnaire, full_answers())
    result = intake("--client", "C-1", lines=["", *typed[:4], "q"])
    assert result.exit_code == 0
    doc = only_session(isolated_env)
    sid = doc["id"]
    assert doc["status"] == "stopped" and len(doc["answers"]) == 4
    assert f"To go on with it later: ketscreen intake --resume {sid}" in said(result)

    resumed = intake("--resume", sid, lines=["", *typed[4:], "", ""])
    assert resumed.exit_code == 0, resumed.stdout[-2000:]
    assert "4 of 32 questions answered so far" in resumed.stdout
    assert "Question 5 of 32." in resumed.stdout
    assert "Question 4 of" not in resumed.stdout
    doc = only_session(isolated_env)
    assert doc["status"] == "completed" and len(doc["answers"]) == 32
    kinds = [e["event"] for e in doc["events"]]
    assert kinds[0] == "started" and kinds[5:7] == ["stopped", "resumed"]
    assert kinds[-1] == "completed"


def test_end_of_input_saves_in_progress_and_says_how_to_resume(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    typed = keys_for(questionnaire, full_answers())
    result = intake("--client", "C-1", lines=["", *typed[:7]])
    assert result.exit_code == ExitCode.ERROR
    doc = only_session(isolated_env)
    sid = doc["id"]
    assert doc["status"] == "in-progress"
    assert len(doc["answers"]) == 7
    assert doc["events"][-1]["event"] == "interrupted"
    assert result.stderr == (
        f"\nInput ended. Session {sid} is saved as in-progress with 7 answers. "
        f"To go on: ketscreen intake --resume {sid}\n"
    )


@pytest.fixture
def ctrl_c_after(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make the n-th question asked raise KeyboardInterrupt, as Ctrl-C at a prompt does."""

    def arm(n: int) -> None:
        original = Terminal.ask
        calls = {"count": 0}

        def ask(self: Terminal, prompt: str) -> str:
            calls["count"] += 1
            if calls["count"] == n:
                raise KeyboardInterrupt
            return original(self, prompt)

        monkeypatch.setattr(Terminal, "ask", ask)

    return arm


def test_ctrl_c_saves_in_progress_prints_the_resume_command_and_exits_130(
    isolated_env: Path, questionnaire: Questionnaire, ctrl_c_after: Any
) -> None:
    typed = keys_for(questionnaire, full_answers())
    ctrl_c_after(1 + 6)  # the welcome, then five answers, then Ctrl-C at the sixth
    result = intake("--client", "C-1", lines=["", *typed])
    assert result.exit_code == ExitCode.INTERRUPTED
    doc = only_session(isolated_env)
    sid = doc["id"]
    assert (doc["status"], len(doc["answers"])) == ("in-progress", 5)
    assert result.stderr == (
        f"\nInterrupted. Session {sid} is saved as in-progress with 5 answers. "
        f"To go on: ketscreen intake --resume {sid}\n"
    )
    resumed = intake("--resume", sid, lines=["", *typed[5:], "", ""])
    assert resumed.exit_code == 0
    assert "Question 6 of 32." in resumed.stdout
    assert only_session(isolated_env)["status"] == "completed"


def test_ctrl_c_before_starting_saves_nothing(isolated_env: Path, ctrl_c_after: Any) -> None:
    ctrl_c_after(1)
    result = intake("--client", "C-1", lines=[""])
    assert result.exit_code == ExitCode.INTERRUPTED
    assert result.stderr == "\nInterrupted. Nothing was saved.\n"
    assert not (isolated_env / "sessions").exists()


def test_ctrl_c_after_a_crisis_answer_shows_the_crisis_panel_again(
    isolated_env: Path, ctrl_c_after: Any
) -> None:
    ctrl_c_after(4)  # welcome, "no use", "thoughts now", then Ctrl-C at the crisis pause
    result = intake("--client", "C-1", lines=["", "3", "3", ""])
    assert result.exit_code == ExitCode.INTERRUPTED
    assert result.stdout.count("Support is available now") == 2
    assert only_session(isolated_env)["answers"] == {"use_12m": "no", "self_harm": "now"}


def completed_session(questionnaire: Questionnaire, **overrides: object) -> str:
    typed = keys_for(questionnaire, full_answers(**overrides))
    result = intake("--client", "C-1", lines=["", *typed, "", ""])
    assert result.exit_code == 0
    sid: str = result.stdout.rsplit("Session ", 1)[1].split()[0]
    return sid


def test_amend_changes_answers_with_the_reason_and_rescores(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    sid = completed_session(questionnaire, craving="yes")
    assert only_session(isolated_env)["result"]["band"] == "low"
    order = list(asked_items(questionnaire, full_answers()))  # type: ignore[arg-type]
    tolerance = str(order.index("tolerance") + 1)
    result = intake(
        "--amend", sid, "--reason", "client clarified after a break", lines=["", tolerance, "2", ""]
    )
    assert result.exit_code == 0, result.stdout[-2000:]
    assert (
        'Every change is recorded with the time and the reason: "client clarified' in result.stdout
    )
    assert "Some warning signs" in result.stdout  # the new result is shown
    assert f"Session {sid} amended: 1 change saved with the reason." in result.stdout
    doc = only_session(isolated_env)
    assert doc["status"] == "amended"
    assert doc["result"]["band"] == "mild"
    amended = [e for e in doc["events"] if e["event"] == "amended"]
    assert [(e["item"], e["old"], e["new"], e["reason"]) for e in amended] == [
        ("tolerance", "no", "yes", "client clarified after a break")
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", amended[0]["at"])


def test_amend_that_opens_questions_asks_them(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    typed = keys_for(questionnaire, {"use_12m": "no", "self_harm": "no"})
    sid_run = intake("--client", "C-1", lines=["", *typed, "", ""])
    sid = sid_run.stdout.rsplit("Session ", 1)[1].split()[0]
    rest = (
        keys_for(questionnaire, full_answers())[1:-2] + keys_for(questionnaire, full_answers())[-1:]
    )
    result = intake("--amend", sid, "--reason", "disclosed use", lines=["", "1", "1", *rest, ""])
    assert result.exit_code == 0, result.stdout[-3000:]
    doc = only_session(isolated_env)
    assert doc["status"] == "amended" and len(doc["answers"]) == 32
    assert {e["reason"] for e in doc["events"] if e["event"] == "amended"} == {"disclosed use"}
    assert doc["result"]["band"] == "low"


def test_amend_without_a_change_leaves_the_session(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    sid = completed_session(questionnaire)
    before = (isolated_env / "sessions" / f"{sid}.json").read_bytes()
    result = intake("--amend", sid, "--reason", "checking", lines=["", ""])
    assert result.exit_code == 0
    assert f"No answer was changed; session {sid} is as it was." in result.stdout
    assert (isolated_env / "sessions" / f"{sid}.json").read_bytes() == before


def test_amend_or_resume_can_be_left_at_the_first_screen(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    sid = completed_session(questionnaire)
    before = (isolated_env / "sessions" / f"{sid}.json").read_bytes()
    assert "Left as it was." in intake("--amend", sid, "--reason", "x", lines=["q"]).stdout
    assert (isolated_env / "sessions" / f"{sid}.json").read_bytes() == before


def test_resume_left_at_the_first_screen(isolated_env: Path) -> None:
    started = intake("--client", "C-1", lines=["", "1", "q"])
    sid = only_session(isolated_env)["id"]
    before = (isolated_env / "sessions" / f"{sid}.json").read_bytes()
    assert started.exit_code == 0
    assert "Left as it was." in intake("--resume", sid, lines=["q"]).stdout
    assert (isolated_env / "sessions" / f"{sid}.json").read_bytes() == before


def test_ctrl_c_while_amending_keeps_the_changes_made(
    isolated_env: Path, questionnaire: Questionnaire, ctrl_c_after: Any
) -> None:
    sid = completed_session(questionnaire)
    order = list(asked_items(questionnaire, full_answers()))  # type: ignore[arg-type]
    ctrl_c_after(4)  # welcome, pick craving, answer yes, then Ctrl-C at the review
    result = intake(
        "--amend", sid, "--reason", "r", lines=["", str(order.index("craving") + 1), "y", ""]
    )
    assert result.exit_code == ExitCode.INTERRUPTED
    assert result.stderr == (
        f"\nInterrupted. Session {sid} is saved as amended with 32 answers. "
        f"To go on: ketscreen intake --amend {sid} --reason TEXT\n"
    )
    assert only_session(isolated_env)["answers"]["craving"] == "yes"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give one of --client ID (a new session), --resume ID or --amend ID --reason TEXT"),
        (["--client", "a", "--resume", "b"], "give one of --client ID"),
        (["--client", "a", "--reason", "r"], "--reason goes with --amend"),
        (["--amend", "x"], "--reason goes with --amend, and --amend needs --reason TEXT"),
        (["--resume", "x", "--counselor", "Sam"], "--counselor is recorded when a session starts"),
        (["--client", " "], "the client id is empty"),
        (["--client", "x" * 65], "the client id is longer than 64 characters"),
    ],
)
def test_usage_errors(isolated_env: Path, args: list[str], message: str) -> None:
    result = intake(*args, lines=[])
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith(f"Error: {message}")
    assert not (isolated_env / "sessions").exists()


def test_resuming_a_completed_session_points_to_amend(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    sid = completed_session(questionnaire)
    result = intake("--resume", sid, lines=[""])
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr == (
        f"Error: session {sid} is completed; to change its answers use --amend ID --reason TEXT\n"
    )


def test_amending_an_unfinished_session_points_to_resume(isolated_env: Path) -> None:
    intake("--client", "C-1", lines=["", "1", "q"])
    sid = only_session(isolated_env)["id"]
    result = intake("--amend", sid, "--reason", "r", lines=[""])
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr == (
        f"Error: session {sid} is stopped; only a completed session can be amended "
        f"(to go on with it: ketscreen intake --resume {sid})\n"
    )


def test_an_empty_reason_is_refused(isolated_env: Path, questionnaire: Questionnaire) -> None:
    sid = completed_session(questionnaire)
    result = intake("--amend", sid, "--reason", "  ", lines=[""])
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr == "Error: the reason is empty\n"


def test_resume_refuses_an_unknown_a_damaged_or_another_version_session(
    isolated_env: Path,
) -> None:
    unknown = intake("--resume", "20261121-100000-zzzzz", lines=[""])
    assert unknown.exit_code == ExitCode.ERROR
    assert "no session 20261121-100000-zzzzz in" in unknown.stderr
    # A path is for reports only: a session goes on where it lives.
    assert "no such session" in intake("--resume", "/tmp/x.json", lines=[""]).stderr

    intake("--client", "C-1", lines=["", "1", "q"])
    path = next((isolated_env / "sessions").glob("*.json"))
    sid = path.stem
    doc = json.loads(path.read_text())
    doc["questionnaire"]["version"] = "2.0.0"
    path.write_text(json.dumps(doc))
    other = intake("--resume", sid, lines=[""])
    assert other.exit_code == ExitCode.ERROR
    assert "recorded with questionnaire ketamine 2.0.0" in other.stderr
    assert "which this ketscreen does not ship" in other.stderr

    path.write_text(path.read_text()[:-40])
    before = path.read_bytes()
    damaged = intake("--resume", sid, lines=[""])
    assert damaged.exit_code == ExitCode.ERROR
    assert "the file is truncated or corrupted" in damaged.stderr
    assert path.read_bytes() == before


def test_a_disk_that_fills_up_mid_intake_keeps_the_last_saved_answer(
    isolated_env: Path, questionnaire: Questionnaire, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = os.fsync
    calls = {"count": 0}

    def fsync(fd: int) -> None:
        calls["count"] += 1
        # Two fsyncs per save (the file, then its folder): the new session, three answers,
        # then the disk is full.
        if calls["count"] > 8:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    typed = keys_for(questionnaire, full_answers())
    result = intake("--client", "C-1", lines=["", *typed])
    assert result.exit_code == ExitCode.ERROR
    doc = only_session(isolated_env)
    sid = doc["id"]
    path = isolated_env / "sessions" / f"{sid}.json"
    assert result.stderr == (
        f"Error: {path}: the disk is full; free some space and try again. Session {sid} "
        "keeps every answer saved before this one; to go on once it can be saved: "
        f"ketscreen intake --resume {sid}\n"
    )
    assert len(doc["answers"]) == 3
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_a_read_only_sessions_folder_stops_before_the_first_question(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    result = intake("--client", "C-1", lines=["", "1"])
    assert result.exit_code == ExitCode.ERROR
    folder = isolated_env / "sessions"
    assert result.stderr.startswith(f"Error: {folder}/")
    assert "cannot write here (permission denied or read-only)" in result.stderr
    assert "Question 1" not in result.stdout
    assert list(folder.iterdir()) == []


def test_typed_notes_are_kept_cleaned_never_discarded(isolated_env: Path) -> None:
    long_note = "x" * 4001
    arrows = "takes it at parties\x1b[D\x1b[D\x1b[Cs\x07"
    result = intake(
        "--client", "C-1", lines=["", "a", "", "note", long_note, "a", arrows, "3", "1", "", ""]
    )
    assert result.exit_code == 0
    assert "No note added." in result.stdout
    assert "Note saved with this question (Ketamine use in the past 12 months), in 2 parts." in (
        " ".join(result.stdout.split())
    )
    doc = only_session(isolated_env)
    texts = [note["text"] for note in doc["item_notes"]["use_12m"]]
    assert texts == ["x" * 4000, "x", "takes it at partiess"]


def test_sessions_listing_after_intakes(isolated_env: Path, questionnaire: Questionnaire) -> None:
    completed_session(questionnaire, craving="yes")
    listing = runner.invoke(app, ["sessions", "--format", "json"])
    assert [s["status"] for s in json.loads(listing.stdout)] == ["completed"]
    store = SessionStore()
    assert store.summaries()[0][0].band == "low"


def test_ctrl_c_at_the_resume_screen_leaves_the_session(
    isolated_env: Path, ctrl_c_after: Any
) -> None:
    intake("--client", "C-1", lines=["", "1", "q"])
    path = next((isolated_env / "sessions").glob("*.json"))
    before = path.read_bytes()
    ctrl_c_after(1)
    result = intake("--resume", path.stem, lines=[""])
    assert result.exit_code == ExitCode.INTERRUPTED
    assert result.stderr == "\nInterrupted. The session is as it was.\n"
    assert path.read_bytes() == before


def test_stopping_an_amendment_midway_keeps_the_changes_made(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    sid = completed_session(questionnaire)
    order = list(asked_items(questionnaire, full_answers()))  # type: ignore[arg-type]
    result = intake(
        "--amend", sid, "--reason", "r", lines=["", str(order.index("craving") + 1), "yes", "q"]
    )
    assert result.exit_code == 0
    assert f"Session {sid} amended: 1 change saved with the reason." in said(result)
    assert "Some warning signs" not in result.stdout  # no result screen when stopped
    assert only_session(isolated_env)["answers"]["craving"] == "yes"


def test_an_unknown_region_variable_is_a_warning(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETSCREEN_REGION", "Atlantis")
    result = runner.invoke(app, ["intake", "--client", "C-1"], input="q\n", env=ENV)
    assert result.exit_code == 0
    assert result.stderr.startswith("Warning: ")


def test_the_crisis_panel_comes_before_saving_even_when_saving_fails(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketscreen.io.atomic import OutputError

    real_save = SessionStore.save

    def save(self: SessionStore, session: Any, **kwargs: Any) -> None:
        if session.answers.get("self_harm") == "now":
            raise OutputError("sessions folder: the disk is full; free some space and try again")
        real_save(self, session, **kwargs)

    monkeypatch.setattr(SessionStore, "save", save)
    result = intake("--client", "C-1", lines=["", "3", "3", ""])  # no use; thoughts right now
    assert "If you are in danger now, call 999." in result.stdout
    assert "Samaritans: Call 116 123" in result.stdout
    assert result.exit_code == 1
    assert "the disk is full" in result.stderr


def test_resuming_a_session_with_a_crisis_answer_shows_it_first(isolated_env: Path) -> None:
    intake("--client", "C-1", lines=["", "1", "1", "1 3", *["2"] * 27, "2", "q"])
    path = next((isolated_env / "sessions").glob("*.json"))
    assert json.loads(path.read_text())["answers"]["self_harm"] == "past_month"
    result = intake("--resume", path.stem, lines=["", "q"])
    shown = said(result)
    earlier = "Earlier in this session the client reported thoughts of suicide or self-harm"
    assert f"{earlier} in the past month." in shown
    assert "For the client: read this to them, or show them the screen." in shown
    assert shown.index(earlier) < shown.index("resuming session")


def test_general_notes_screen_ends_with_the_crisis_line(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    typed = keys_for(questionnaire, full_answers())
    result = intake("--client", "C-1", lines=["", *typed, "", ""])
    notes_screen = result.stdout.split("General notes", 1)[1].split("General note (Enter", 1)[0]
    assert "Need to talk to someone now? Samaritans" in " ".join(notes_screen.split())


def test_the_session_keeps_its_region_for_reports(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    sid = completed_session(questionnaire, urine_blood="yes")  # intake ran with --region UK
    assert only_session(isolated_env)["region"] == "UK"
    report = runner.invoke(app, ["report", sid], env=ENV)
    assert report.exit_code == 0
    assert "Samaritans" in report.stdout and "NHS 111" in report.stdout
    flat = " ".join(report.stdout.split())
    route = flat.index("Where to get medical advice today: NHS 111")
    assert flat.index("Blood in urine") < route < flat.index("RESULT")
    other = runner.invoke(app, ["report", sid, "--region", "US"], env=ENV)
    assert "Call or text 988" in " ".join(other.stdout.split())
    assert "Samaritans" not in other.stdout
