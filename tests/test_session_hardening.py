"""Sessions under hostile conditions (issue #11): two counselors on one session, files
written by a newer or another program, tampered files, and folders other users can read.

Points 1 (one process per session, compare before replace), 2 (unknown fields kept,
answers never silently rewritten), 11 (a pipe in the sessions folder), 14 (every field
checked on load) and 15 (folder privacy).
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from ketscreen.cli import app
from ketscreen.core.model import Questionnaire
from ketscreen.errors import ExitCode
from ketscreen.io.session_store import SessionBusy, SessionChanged, SessionStore
from ketscreen.io.sessions import Session, SessionError
from tests.conftest import full_answers
from tests.test_intake import keys_for

runner = CliRunner()
ENV = {"COLUMNS": "100"}
T0 = "2026-11-21T10:00:00Z"
ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60


def started(questionnaire: Questionnaire, answers: int = 3, **given: object) -> Session:
    """A session in the default folder with the first `answers` answers of a full intake."""
    store = SessionStore()
    session = store.create(questionnaire, "C-0042", "Sam", at=T0)
    interview = session.interview()
    values = full_answers(**given)
    for _ in range(answers):
        assert interview.current is not None
        interview.answer(values[interview.current.id])
        session.record_answers(interview.answers, at=T0)
    store.save(session)
    return session


def completed(questionnaire: Questionnaire, **given: object) -> Session:
    session = started(questionnaire, len(full_answers(**given)), **given)
    session.complete(at=T0)
    SessionStore().save(session)
    return session


def edit(session_id: str, change: Callable[[dict[str, Any]], None]) -> Path:
    path = SessionStore().path(session_id)
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def intake(*args: str, lines: list[str]) -> Result:
    return runner.invoke(
        app,
        ["intake", *args, "--region", "UK", "--plain"],
        input="".join(f"{line}\n" for line in lines),
        env=ENV,
    )


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Error:")]


def child_env(home: Path) -> dict[str, str]:
    return {**os.environ, "KETSCREEN_HOME": str(home), "LANG": "C.UTF-8"}


# -- 1. one process per session ---------------------------------------------------------


def wait_until_held(store: SessionStore, session_id: str, pid: int) -> None:
    """Until process `pid` has written itself into the session's lock file."""
    deadline = time.monotonic() + TIMEOUT
    lock = store.lock_path(session_id)
    while True:
        try:
            if json.loads(lock.read_text(encoding="utf-8"))["pid"] == pid:
                return
        except (OSError, ValueError, KeyError):
            pass
        assert time.monotonic() < deadline, "the first intake never took the session"
        time.sleep(0.05)


def test_a_second_resume_of_an_open_session_is_refused_naming_who_holds_it(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    """Before: both resumed, each rewrote the file from its own copy, and one counselor's
    answers vanished with exit 0. Now the second (and third) is refused at once, and the
    first one's every answer and event is kept."""
    session = started(questionnaire)
    rest = keys_for(questionnaire, full_answers())[3:]
    first = subprocess.Popen(
        [sys.executable, "-m", "ketscreen", "intake", "--resume", session.id, "--plain"],
        cwd=ROOT,
        env=child_env(isolated_env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        store = SessionStore()
        wait_until_held(store, session.id, first.pid)
        for _ in range(2):
            second = subprocess.run(
                [sys.executable, "-m", "ketscreen", "intake", "--resume", session.id, "--plain"],
                cwd=ROOT,
                env=child_env(isolated_env),
                input="\n" + "\n".join(rest) + "\n\n\n",
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
            assert second.returncode == ExitCode.ERROR
            assert second.stderr.splitlines() == [
                f"Error: session {session.id} is open in another ketscreen (process "
                f"{first.pid} on {socket.gethostname()}, since "
                + second.stderr.split("since ", 1)[1].split(")", 1)[0]
                + "); finish or quit it there first. A lock is released as soon as the "
                "process holding it ends, so if it has ended (or crashed), simply try again"
            ]
            assert "C-0042" not in second.stderr
        out, err = first.communicate("\n" + "\n".join(rest) + "\n\n\n", timeout=TIMEOUT)
    finally:
        if first.poll() is None:  # pragma: no cover - only when the test fails
            first.kill()
            first.wait()
    assert first.returncode == 0, err
    done = SessionStore().load(session.id, questionnaire)
    assert done.status.value == "completed"
    assert done.answers == SessionStore().load(session.id, questionnaire).answers
    assert len(done.answers) == len(full_answers())
    kinds = [e.kind.value for e in done.events]
    assert kinds.count("resumed") == 1  # the refused ones left no trace
    assert sorted(os.listdir(store.folder)) == [f"{session.id}.json"]  # lock file gone


HOLDER = """
import sys
from ketscreen.io.questionnaires import load_questionnaire
from ketscreen.io.session_store import SessionStore
store = SessionStore(exclusive=True)
store.load(sys.argv[1], load_questionnaire(), allow_path=False)
print("held", flush=True)
sys.stdin.readline()  # hold it until killed
"""


def test_a_crashed_holder_never_leaves_a_session_stuck(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    session = started(questionnaire)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, session.id],
        cwd=ROOT,
        env=child_env(isolated_env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(SessionBusy, match=f"process {holder.pid} on "):
            SessionStore(exclusive=True).load(session.id, questionnaire)
    finally:
        holder.kill()
        holder.wait(timeout=TIMEOUT)
        holder.stdin.close()
        holder.stdout.close()
    # The OS released the dead process's lock: the session opens at once.
    with SessionStore(exclusive=True) as store:
        assert store.load(session.id, questionnaire).id == session.id
        assert store.holds(session.id)
    assert not store.lock_path(session.id).exists()


def test_two_stores_in_one_process_exclude_each_other_too(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    session = started(questionnaire)
    with SessionStore(exclusive=True) as first:
        first.load(session.id, questionnaire)
        with pytest.raises(SessionBusy, match=f"session {session.id} is open"):
            SessionStore(exclusive=True).load(session.id, questionnaire)
        with pytest.raises(SessionBusy):  # a plain save waits its turn too: refused
            SessionStore().save(session)
    assert SessionStore(exclusive=True).load(session.id, questionnaire).id == session.id


def test_a_file_changed_since_it_was_read_is_never_replaced(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    """Compare before replace: another program's write (an older ketscreen without the
    lock, a sync tool, an editor) is kept, and this save is refused."""
    session = started(questionnaire)
    store = SessionStore()
    mine = store.load(session.id, questionnaire)
    theirs = SessionStore().load(session.id, questionnaire)
    theirs.add_note("written elsewhere", at=T0)
    SessionStore().save(theirs)
    after_theirs = store.path(session.id).read_bytes()
    mine.add_note("written here", at=T0)
    with pytest.raises(SessionChanged) as caught:
        store.save(mine)
    assert str(caught.value) == (
        f"session {session.id} was changed by another program after this ketscreen read "
        "it, so it was not replaced (the other changes are kept); this screen's last change "
        "was not saved"
    )
    assert store.path(session.id).read_bytes() == after_theirs
    assert not [p for p in store.folder.iterdir() if p.name.endswith((".tmp", ".lock"))]
    store.path(session.id).unlink()
    with pytest.raises(SessionChanged, match="was removed after this ketscreen read it"):
        store.save(mine)


def test_the_intake_says_how_to_go_on_when_its_file_changed_underneath(
    isolated_env: Path, questionnaire: Questionnaire, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = started(questionnaire)
    real_save = SessionStore.save
    calls = []

    def save_after_someone_else(self: SessionStore, saved: Session, *, new: bool = False) -> None:
        calls.append(saved.id)
        if len(calls) == 2:  # someone else writes between two answers
            path = self.path(saved.id)
            path.write_text(path.read_text(encoding="utf-8") + " ", encoding="utf-8")
        real_save(self, saved, new=new)

    monkeypatch.setattr(SessionStore, "save", save_after_someone_else)
    rest = keys_for(questionnaire, full_answers())[3:]
    result = intake("--resume", session.id, lines=["", *rest[:3]])
    assert result.exit_code == ExitCode.ERROR
    assert error_lines(result) == [
        f"Error: session {session.id} was changed by another program after this ketscreen "
        "read it, so it was not replaced (the other changes are kept); this screen's last "
        f"change was not saved. Session {session.id} keeps every answer saved before this "
        f"one; to go on once it can be saved: ketscreen intake --resume {session.id}"
    ]
    assert "Traceback" not in result.stderr


# -- 2. unknown fields are kept; answers are never rewritten ------------------------------


def add_unknown_fields(doc: dict[str, Any]) -> None:
    doc["x_counselor_safety_plan"] = {"version": 2, "steps": ["a", "b"]}
    doc["events"][1]["x_device"] = "tablet-3"
    doc["events"][0]["x_site"] = {"room": 4}
    doc["general_notes"] = [{"at": T0, "text": "first visit", "x_tags": ["intake"]}]
    doc["item_notes"] = {"use_12m": [{"at": T0, "text": "hesitated", "x_by": "Sam"}]}


def test_resume_keeps_fields_it_does_not_know(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    """Before: a newer tool's field, or an extra key on an event or a note, vanished."""
    session = started(questionnaire)
    edit(session.id, add_unknown_fields)
    next_answer = keys_for(questionnaire, full_answers())[3]
    result = intake("--resume", session.id, lines=["", next_answer, "q"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(SessionStore().path(session.id).read_text(encoding="utf-8"))
    assert doc["status"] == "stopped" and len(doc["answers"]) == 4
    assert doc["x_counselor_safety_plan"] == {"version": 2, "steps": ["a", "b"]}
    assert doc["events"][0]["x_site"] == {"room": 4}
    assert doc["events"][1]["x_device"] == "tablet-3"
    assert doc["general_notes"] == [{"at": T0, "text": "first visit", "x_tags": ["intake"]}]
    assert doc["item_notes"]["use_12m"][0]["x_by"] == "Sam"
    # ... and so does finishing it, then amending it.
    store = SessionStore()
    loaded = store.load(session.id, questionnaire)
    assert loaded.extra == {"x_counselor_safety_plan": {"version": 2, "steps": ["a", "b"]}}
    loaded.resume(at=T0)
    interview = loaded.interview()
    while not interview.finished:
        assert interview.current is not None
        interview.answer(full_answers()[interview.current.id])
    loaded.record_answers(interview.answers, at=T0)
    loaded.complete(at=T0)
    loaded.amend("craving", "yes", "client clarified", at=T0)
    store.save(loaded)
    doc = json.loads(store.path(session.id).read_text(encoding="utf-8"))
    assert doc["status"] == "amended"
    assert doc["x_counselor_safety_plan"] == {"version": 2, "steps": ["a", "b"]}
    assert doc["events"][1]["x_device"] == "tablet-3"


REWRITTEN = "not stored exactly as ketscreen writes it"


@pytest.mark.parametrize(
    ("item", "stored", "why"),
    [
        ("freq_3m", "DAILY ", REWRITTEN),
        ("freq_3m", "Weekly", REWRITTEN),
        ("routes", ["smoke", "snort"], REWRITTEN),  # not in the questionnaire's order
        ("routes", ["snort", "snort"], REWRITTEN),
        ("routes", "snort", REWRITTEN),  # a multi-select stored as text
        ("use_12m", True, "must be a code or a list of codes, not true/false"),
        ("freq_3m", "", "empty; an unanswered question is left out"),
    ],
)
def test_an_answer_not_stored_exactly_as_a_code_is_refused_not_rewritten(
    isolated_env: Path, questionnaire: Questionnaire, item: str, stored: object, why: str
) -> None:
    """Before: `"DAILY "` became `daily` on the next save, with no event."""
    session = started(questionnaire)
    path = edit(session.id, lambda d: d["answers"].update({item: stored}))
    before = path.read_bytes()
    for args in (["intake", "--resume", session.id, "--plain"], ["report", session.id]):
        result = runner.invoke(app, args, input="\nq\n")
        assert result.exit_code == ExitCode.ERROR
        [line] = error_lines(result)
        assert line.startswith(f"Error: {path}: cannot be used as a session: answers.{item}: {why}")
        assert "DAILY" not in line and "Weekly" not in line
        assert path.read_bytes() == before


def test_every_changed_answer_is_an_event(isolated_env: Path, questionnaire: Questionnaire) -> None:
    session = started(questionnaire)
    typed = keys_for(questionnaire, full_answers())
    # resume, answer the 4th question, go back twice, change the 3rd answer, stop
    result = intake("--resume", session.id, lines=["", typed[3], "b", "b", "2", "q"])
    assert result.exit_code == 0, result.stderr
    done = SessionStore().load(session.id, questionnaire)
    events = [(e.kind.value, e.item, e.old, e.new) for e in done.events if e.item]
    second_route = questionnaire.items["routes"].codes[1]
    assert ("changed", "routes", ("snort",), (second_route,)) in events
    answered = {e.item for e in done.events if e.kind.value == "answered"}
    assert set(done.answers) <= answered


# -- 14. tampered files: every field checked, never a crash -------------------------------

TAMPERED: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("an event's item a list", lambda d: d["events"][0].update(item=["x"]), "events[0].item"),
    (
        "an answered event's item a list",
        lambda d: d["events"][1].update(item=["use_12m"]),
        "events[1].item",
    ),
    ("a garbage timestamp", lambda d: d["events"][2].update(at="garbage"), "events[2].at"),
    (
        "an impossible date",
        lambda d: d["events"][2].update(at="2026-13-45T10:00:00Z"),
        "events[2].at",
    ),
    (
        "a time in other digits",
        lambda d: d["events"][2].update(at="\uff12\uff10\uff12\uff16-11-21T10:00:00Z"),
        "events[2].at",
    ),
    (
        "a note's time",
        lambda d: d.update(general_notes=[{"at": 5, "text": "x"}]),
        "general_notes[0].at",
    ),
    (
        "completed with one answer",
        lambda d: (
            d.update(answers={"use_12m": "yes"}),
            d["events"].append({"at": T0, "event": "completed"}),
            d.update(status="completed"),
        ),
        "status: completed, but ",
    ),
    (
        "status without its event",
        lambda d: d.update(status="completed"),
        "status: the file says completed",
    ),
    (
        "an event answer of the wrong shape",
        lambda d: d["events"][1].update(answer=[["yes"]]),
        "events[1].answer: must be a code or a list of codes",
    ),
    (
        "an event answer that is no code",
        lambda d: d["events"][1].update(answer="perhaps"),
        "events[1].answer: 'perhaps' is not an allowed answer",
    ),
    ("an answer an object", lambda d: d["answers"].update(freq_3m={"a": 1}), "answers.freq_3m"),
    ("an id that is a path", lambda d: d.update(id="../../etc/x"), "id: not a session id"),
    ("a client of 10000 characters", lambda d: d.update(client="x" * 10_000), "client: longer"),
    (
        "a hash that is no hash",
        lambda d: d["questionnaire"].update(sha256="abc"),
        "questionnaire.sha256",
    ),
    ("a reason a number", lambda d: d["events"][1].update(reason=3), "events[1].reason"),
]


@pytest.mark.parametrize(("name", "change", "where"), TAMPERED, ids=[t[0] for t in TAMPERED])
def test_a_tampered_file_is_refused_by_report_resume_and_amend_naming_the_field(
    isolated_env: Path,
    questionnaire: Questionnaire,
    name: str,
    change: Callable[[dict[str, Any]], None],
    where: str,
) -> None:
    session = started(questionnaire)
    path = edit(session.id, change)
    before = path.read_bytes()
    for args in (
        ["report", session.id],
        ["report", str(path)],
        ["intake", "--resume", session.id, "--plain"],
        ["intake", "--amend", session.id, "--reason", "checking", "--plain"],
    ):
        result = runner.invoke(app, args, input="\n")
        assert result.exit_code == ExitCode.ERROR, (args, result.stdout[-500:])
        assert result.stderr.splitlines() == error_lines(result), args  # one line, no more
        [line] = error_lines(result)
        assert line.startswith(f"Error: {path}: cannot be used as a session: {where}"), args
        assert line.endswith("The file was left unchanged")
        assert "unexpected" not in line and "C-0042" not in line
        assert path.read_bytes() == before
    listed = runner.invoke(app, ["sessions"], env=ENV)
    assert listed.exit_code == 0
    assert f"Warning: {path}: cannot be used as a session: {where}" in listed.stderr


def test_a_stored_result_that_disagrees_is_never_shown_as_valid(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    """Before: `sessions` listed the band written in the file, whatever the answers said."""
    session = completed(questionnaire)
    path = edit(
        session.id,
        lambda d: d["result"].update(band="severe", top_flag_level="emergency"),
    )
    listed = runner.invoke(app, ["sessions", "--format", "json"])
    assert listed.exit_code == 0
    [row] = json.loads(listed.stdout)
    assert (row["band"], row["top_flag_level"], row["result_verified"]) == ("low", None, True)
    said = (
        f"Warning: {path}: its stored result is not what its answers give (was it edited?); "
        "ketscreen shows the result of the answers\n"
    )
    assert listed.stderr == said
    table = runner.invoke(app, ["sessions"], env=ENV)
    assert "severe" not in table.stdout and "emergency" not in table.stdout
    report = runner.invoke(app, ["report", session.id, "--format", "json"])
    assert report.exit_code == 0
    assert json.loads(report.stdout)["result"]["band"] == "low"
    assert report.stderr == said


def test_a_session_of_an_unknown_questionnaire_is_listed_as_unverified(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    session = completed(questionnaire)
    edit(session.id, lambda d: d["questionnaire"].update(version="9.9.9", sha256="e" * 64))
    listed = runner.invoke(app, ["sessions", "--format", "json"])
    [row] = json.loads(listed.stdout)
    assert (row["band"], row["result_verified"]) == ("low", False)
    table = runner.invoke(app, ["sessions"], env={"COLUMNS": "60"})  # one block each
    assert "(low) (stored, unverified)" in " ".join(table.stdout.split())


# -- 11. anything but a regular file in the sessions folder is skipped -------------------


def test_a_pipe_in_the_sessions_folder_does_not_hang_the_listing(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    """Before: `ketscreen sessions` opened the pipe and waited for ever."""
    session = completed(questionnaire)
    fifo = SessionStore().folder / "20261101-000000-pipes.json"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "ketscreen", "sessions", "--format", "json"],
        cwd=ROOT,
        env=child_env(isolated_env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    assert [row["id"] for row in json.loads(done.stdout)] == [session.id]
    assert done.stderr == (
        f"Warning: {fifo}: not a regular file (a pipe, device or socket); "
        "give the path of a session file\n"
    )
    report = runner.invoke(app, ["report", str(fifo)])
    assert report.exit_code == ExitCode.ERROR
    assert "not a regular file" in report.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)


# -- 15. folder privacy --------------------------------------------------------------------


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_private_folders_are_created_0700_and_their_parents_with_the_umask(
    tmp_path: Path, questionnaire: Questionnaire, monkeypatch: pytest.MonkeyPatch, umask_022: None
) -> None:
    """Before: KETSCREEN_HOME itself was made with the umask (0755 here)."""
    home = tmp_path / "a" / "b" / "home"
    monkeypatch.setenv("KETSCREEN_HOME", str(home))
    SessionStore().create(questionnaire, "C-1", at=T0)
    assert mode(tmp_path / "a") == 0o755
    assert mode(tmp_path / "a" / "b") == 0o755
    assert mode(home) == 0o700
    assert mode(home / "sessions") == 0o700
    [file] = (home / "sessions").iterdir()
    assert mode(file) == 0o600


def test_a_shared_folder_behind_a_link_is_used_but_never_chmod_ed(
    isolated_env: Path, tmp_path: Path, questionnaire: Questionnaire
) -> None:
    """Before: the shared 1777 folder was chmod'ed to 0700, dropping its sticky bit."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    (isolated_env / "sessions").symlink_to(shared, target_is_directory=True)
    result = intake("--client", "C-7", lines=["", "q"])
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings == [
        f"Warning: the sessions folder {isolated_env / 'sessions'} can be opened by other "
        "users (mode 1777); sessions hold health data: if it is yours, make it private with "
        f"`chmod 700 {isolated_env / 'sessions'}`"
    ]
    [file] = shared.glob("*.json")
    assert mode(file) == 0o600


def test_session_files_others_can_read_are_warned_about_once(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    """Before: 0666 session files were listed and reported without a word."""
    sessions = [completed(questionnaire), completed(questionnaire)]
    folder = SessionStore().folder
    for session in sessions:
        SessionStore().path(session.id).chmod(0o666)
    listed = runner.invoke(app, ["sessions"], env=ENV)
    assert listed.exit_code == 0
    first = sorted(folder.glob("*.json"))[0]
    assert listed.stderr == (
        f"Warning: session files in {folder} can be read by other users (for example "
        f"{first.name}, mode 0666); make them private with `chmod 600 {folder}/*.json`\n"
    )
    report = runner.invoke(app, ["report", sessions[0].id])
    assert report.exit_code == 0
    assert report.stderr.count("Warning: session files in") == 1
    assert mode(SessionStore().path(sessions[1].id)) == 0o666  # told, not changed


def test_a_private_folder_raises_no_warning(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    completed(questionnaire)
    listed = runner.invoke(app, ["sessions"], env=ENV)
    assert (listed.exit_code, listed.stderr) == (0, "")


def test_the_folder_check_never_changes_a_folder_it_did_not_make(
    tmp_path: Path, questionnaire: Questionnaire
) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    folder.chmod(0o750)
    store = SessionStore(folder)
    store.create(questionnaire, "C-1", at=T0)
    assert mode(folder) == 0o750
    assert store.notices == [
        f"the sessions folder {folder} can be opened by other users (mode 0750); sessions "
        f"hold health data: if it is yours, make it private with `chmod 700 {folder}`"
    ]
    with pytest.raises(SessionError):
        store.load("20261121-100000-zzzzz", questionnaire)
    assert len(store.notices) == 1


def test_the_lock_file_of_another_user_cannot_inject_text_into_the_message(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    """Anyone who can write the folder can write a lock file: only what looks like a
    host name and a time is shown."""
    session = started(questionnaire)
    with SessionStore(exclusive=True) as holder:
        holder.load(session.id, questionnaire)
        holder.lock_path(session.id).write_text(
            json.dumps({"pid": 7, "host": "\x1b[31mevil", "since": "\x1b]0;x\x07"})
        )
        with pytest.raises(SessionBusy) as caught:
            SessionStore(exclusive=True).load(session.id, questionnaire)
    assert "(process 7 on another computer, since a moment ago)" in str(caught.value)
    assert "\x1b" not in str(caught.value)


def test_a_result_stored_by_another_ketscreen_version_is_no_disagreement(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    session = completed(questionnaire)
    edit(
        session.id,
        lambda d: d["result"]["provenance"].update(tool_version="0.0.9", scored_at=T0),
    )
    listed = runner.invoke(app, ["sessions", "--format", "json"])
    assert (listed.exit_code, listed.stderr) == (0, "")
    edit(session.id, lambda d: d["result"].update(criteria_count=7))
    listed = runner.invoke(app, ["sessions", "--format", "json"])
    assert listed.stderr == ""  # another version's engine may say more: not judged
    assert json.loads(listed.stdout)[0]["band"] == "low"  # still what the answers give
