"""Sessions on disk under stress: bad files, other versions, read-only folders, full disks,
and a process killed between answers. No existing session is ever damaged."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import platformdirs
import pytest

from ketscreen.core.model import Questionnaire
from ketscreen.io import session_store
from ketscreen.io.atomic import OutputError
from ketscreen.io.session_store import SessionStore, is_session_id, new_session_id, sessions_dir
from ketscreen.io.sessions import Session, SessionError
from tests.conftest import full_answers

T0 = "2026-11-21T10:00:00Z"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "sessions")


@pytest.fixture
def saved(store: SessionStore, questionnaire: Questionnaire) -> Session:
    """A session with a few answers, saved."""
    session = store.create(questionnaire, "C-0042", "Sam", at=T0)
    interview = session.interview()
    for value in ("yes", "weekly", ["snort"]):
        interview.answer(value)
        session.record_answers(interview.answers, at=T0)
        store.save(session)
    return session


def edit(store: SessionStore, session_id: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = store.path(session_id)
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- ids and folders --------------------------------------------------------------------


def test_ids_are_short_sortable_by_time_and_random() -> None:
    early = new_session_id(datetime(2026, 11, 21, 9, 5, 3, tzinfo=timezone.utc))
    late = new_session_id(datetime(2026, 11, 21, 10, 0, 0, tzinfo=timezone.utc))
    assert early.startswith("20261121-090503-") and len(early) == 21
    assert early < late
    assert len({new_session_id() for _ in range(200)}) == 200
    assert all(is_session_id(new_session_id()) for _ in range(50))
    assert not is_session_id("20261121-090503-ABCDE")
    assert not is_session_id("../20261121-090503-abcde")


def test_folder_is_under_ketscreen_home(isolated_env: Path) -> None:
    assert sessions_dir() == isolated_env / "sessions"
    assert SessionStore().folder == isolated_env / "sessions"


def test_folder_defaults_to_the_platform_user_data_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KETSCREEN_HOME")
    expected = platformdirs.user_data_path("ketscreen", appauthor=False) / "sessions"
    assert sessions_dir() == expected


def test_new_sessions_never_overwrite(store: SessionStore, questionnaire: Questionnaire) -> None:
    first = store.create(questionnaire, "C-1", at=T0)
    with pytest.raises(OutputError, match="already exists"):
        store.save(first, new=True)


# -- finding sessions -------------------------------------------------------------------


def test_unknown_id_names_the_id_and_what_to_do(
    store: SessionStore, questionnaire: Questionnaire
) -> None:
    with pytest.raises(SessionError) as caught:
        store.load("20261121-100000-zzzzz", questionnaire)
    assert str(caught.value) == (
        f"no session 20261121-100000-zzzzz in {store.folder}; list them with `ketscreen sessions`"
    )


def test_a_mistyped_reference_is_not_repeated(
    store: SessionStore, questionnaire: Questionnaire
) -> None:
    """It might be a client's name typed in the wrong place."""
    with pytest.raises(SessionError) as caught:
        store.load("Jane Doe", questionnaire)
    assert "Jane" not in str(caught.value)
    assert "ids look like 20261121-154012-k7m2q" in str(caught.value)


# -- bad files: one clear message, the file untouched ------------------------------------


def truncate(text: str) -> str:
    return text[: len(text) // 2]


BAD_FILES: list[tuple[str, Callable[[str], str], str]] = [
    ("truncated", truncate, r"not valid JSON at line \d+, column \d+; the file is truncated"),
    ("empty", lambda text: "", "the file is empty"),
    ("not an object", lambda text: "[1, 2]", "the top level is not an object"),
    ("no format", lambda text: '{"id": 1}', "no 'format: ketscreen-session/1'"),
    (
        "newer format",
        lambda text: text.replace("ketscreen-session/1", "ketscreen-session/2"),
        "format 'ketscreen-session/2' is not one this ketscreen reads",
    ),
    (
        "garbage bytes",
        lambda text: "\udcff" + text,
        "not UTF-8 text",
    ),
]


@pytest.mark.parametrize(("name", "damage", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_damaged_file_is_reported_and_left_as_it_is(
    store: SessionStore,
    questionnaire: Questionnaire,
    saved: Session,
    name: str,
    damage: Callable[[str], str],
    message: str,
) -> None:
    path = store.path(saved.id)
    path.write_bytes(
        damage(path.read_text(encoding="utf-8")).encode("utf-8", errors="surrogateescape")
    )
    before = path.read_bytes()
    with pytest.raises(SessionError, match=message) as caught:
        store.load(saved.id, questionnaire)
    assert str(caught.value).startswith(f"{path}: cannot be used as a session: ")
    assert str(caught.value).endswith("The file was left unchanged")
    assert "C-0042" not in str(caught.value)  # nothing about the person
    assert path.read_bytes() == before
    assert files_in(store.folder) == [path.name]


SHAPE_PROBLEMS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("missing client", lambda d: d.pop("client"), "client: missing"),
    ("client not text", lambda d: d.update(client=42), r"client: wrong type \(number\)"),
    ("bad status", lambda d: d.update(status="paused"), "status 'paused' is not one of"),
    ("hash missing", lambda d: d["questionnaire"].pop("sha256"), "questionnaire.sha256: missing"),
    ("no events", lambda d: d.update(events=[]), "events: the list is empty"),
    ("events not a list", lambda d: d.update(events={}), "events: wrong type"),
    ("event not object", lambda d: d["events"].append(3), r"events\[4\]: must be an object"),
    (
        "unknown event",
        lambda d: d["events"].append({"at": T0, "event": "deleted"}),
        "unknown event 'deleted'",
    ),
    ("first not started", lambda d: d["events"].pop(0), "the first event is not 'started'"),
    (
        "amended without reason",
        lambda d: d["events"].append(
            {"at": T0, "event": "amended", "item": "craving", "old": "no", "new": "yes"}
        ),
        r"events\[4\].reason: missing",
    ),
    (
        "answered without answer",
        lambda d: d["events"].append({"at": T0, "event": "answered", "item": "craving"}),
        r"events\[4\].answer: missing",
    ),
    (
        "event about an unknown item",
        lambda d: d["events"].append(
            {"at": T0, "event": "changed", "item": "nope", "old": None, "new": "x"}
        ),
        "events: 'nope' is not an item",
    ),
    ("notes not a list", lambda d: d.update(general_notes="hi"), "general_notes: wrong type"),
    (
        "note not an object",
        lambda d: d["item_notes"].update(craving=["x"]),
        r"item_notes.craving\[0\]: must be an object",
    ),
    (
        "note without text",
        lambda d: d["item_notes"].update(craving=[{"at": T0}]),
        r"item_notes.craving\[0\].text: missing",
    ),
    (
        "notes of one item not a list",
        lambda d: d["item_notes"].update(craving="x"),
        "item_notes.craving: must be a list",
    ),
    (
        "note on an unknown item",
        lambda d: d["item_notes"].update(nope=[{"at": T0, "text": "x"}]),
        "item_notes: 'nope' is not an item",
    ),
    ("result not an object", lambda d: d.update(result=[]), "result: must be an object or null"),
    (
        "an answer that is not a code",
        lambda d: d["answers"].update(craving="maybe"),
        "answers.craving: 'maybe' is not an allowed answer",
    ),
    (
        "an answer skip logic does not ask",
        lambda d: d["answers"].update(use_12m="no"),
        "answers: freq_3m is answered but not asked",
    ),
    ("id not an id", lambda d: d.update(id="x"), "id: not a session id"),
    (
        "id and file name differ",
        lambda d: d.update(id="20261121-100000-zzzzz"),
        "its id does not match its file",
    ),
]


@pytest.mark.parametrize(
    ("name", "change", "message"), SHAPE_PROBLEMS, ids=[p[0] for p in SHAPE_PROBLEMS]
)
def test_a_file_of_the_wrong_shape_is_reported_and_left_as_it_is(
    store: SessionStore,
    questionnaire: Questionnaire,
    saved: Session,
    name: str,
    change: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    edit(store, saved.id, change)
    before = store.path(saved.id).read_bytes()
    with pytest.raises(SessionError, match=message):
        store.load(saved.id, questionnaire)
    assert store.path(saved.id).read_bytes() == before


def test_an_unreadable_file_is_one_clear_error(
    store: SessionStore, questionnaire: Questionnaire, saved: Session, tmp_path: Path
) -> None:
    folder = tmp_path / "a-folder.json"
    folder.mkdir()
    with pytest.raises(SessionError, match="is a folder"):
        store.load(str(folder), questionnaire)


def test_an_oversized_file_is_refused(
    store: SessionStore,
    questionnaire: Questionnaire,
    saved: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(session_store, "MAX_SESSION_BYTES", 100)
    with pytest.raises(SessionError, match="too large to be a session"):
        store.load(saved.id, questionnaire)


def test_a_session_opens_with_its_own_version_whatever_file_is_given(
    store: SessionStore,
    questionnaire: Questionnaire,
    questionnaire_100: Questionnaire,
    saved: Session,
) -> None:
    opened = store.load(saved.id, questionnaire_100)
    assert opened.questionnaire.version == "1.1.0"
    assert opened.answers == saved.answers


def test_a_version_that_does_not_ship_is_refused_naming_it(
    store: SessionStore, questionnaire: Questionnaire, saved: Session
) -> None:
    edit(store, saved.id, lambda doc: doc["questionnaire"].update(version="0.9.0"))
    with pytest.raises(SessionError) as caught:
        store.load(saved.id)
    message = str(caught.value)
    assert f"session {saved.id} was recorded with questionnaire ketamine 0.9.0" in message
    assert "does not ship" in message
    assert "--questionnaire PATH" in message


def test_the_same_version_with_other_content_is_refused(
    store: SessionStore, questionnaire: Questionnaire, saved: Session
) -> None:
    edited = dataclasses.replace(questionnaire, sha256="0" * 64)
    with pytest.raises(SessionError, match=r"different content \(sha256 000000000000\.\.\.\)"):
        store.load(saved.id, edited)


# -- listing ----------------------------------------------------------------------------


def test_listing_is_newest_first_and_skips_damaged_files(
    store: SessionStore, questionnaire: Questionnaire
) -> None:
    times = ["2026-11-20T09:00:00Z", "2026-11-21T09:00:00Z", "2026-11-19T09:00:00Z"]
    made = [store.create(questionnaire, f"C-{i}", at=at) for i, at in enumerate(times)]
    (store.folder / "20261101-000000-broke.json").write_text('{"format": "ketscr')
    (store.folder / "notes.txt").write_text("not a session")
    found, broken = store.summaries()
    assert [s.client for s in found] == ["C-1", "C-0", "C-2"]
    assert [b.path.name for b in broken] == ["20261101-000000-broke.json"]
    assert "truncated or corrupted" in broken[0].reason
    assert found[0].to_dict() == {
        "id": made[1].id,
        "client": "C-1",
        "counselor": None,
        "started": "2026-11-21T09:00:00Z",
        "updated": "2026-11-21T09:00:00Z",
        "status": "in-progress",
        "band": None,
        "lower_bound": False,
        "top_flag_level": "not_assessed",
        "questionnaire": "ketamine 1.1.0",
        "result_verified": True,  # worked out with the shipped 1.1.0
    }


def test_a_folder_that_cannot_be_listed_is_one_clear_error(
    store: SessionStore, saved: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, pattern: str) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "glob", refuse)
    with pytest.raises(SessionError) as caught:
        store.summaries()
    assert str(caught.value) == (
        f"{store.folder}: cannot be listed (Permission denied); check its permissions"
    )


def test_listing_an_absent_folder_is_empty(store: SessionStore) -> None:
    assert store.summaries() == ([], [])


# -- failures while writing: the previous file survives -------------------------------


def test_a_full_disk_leaves_the_last_good_file(
    store: SessionStore,
    questionnaire: Questionnaire,
    saved: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = store.path(saved.id).read_bytes()

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    interview = saved.interview()
    interview.answer("yes")
    saved.record_answers(interview.answers)
    with pytest.raises(OutputError) as caught:
        store.save(saved)
    assert str(caught.value) == (
        f"{store.path(saved.id)}: the disk is full; free some space and try again"
    )
    assert store.path(saved.id).read_bytes() == before
    assert files_in(store.folder) == [f"{saved.id}.json"]  # no temporary file left


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS])
def test_a_read_only_folder_leaves_the_last_good_file(
    store: SessionStore,
    questionnaire: Questionnaire,
    saved: Session,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
) -> None:
    before = store.path(saved.id).read_bytes()

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(OutputError, match=r"cannot write here \(permission denied or read-only\)"):
        store.save(saved)
    with pytest.raises(OutputError, match="cannot write here"):
        store.create(questionnaire, "C-2")
    assert store.path(saved.id).read_bytes() == before
    assert files_in(store.folder) == [f"{saved.id}.json"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_really_read_only_folder(
    store: SessionStore, questionnaire: Questionnaire, saved: Session
) -> None:
    before = store.path(saved.id).read_bytes()
    store.folder.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="cannot write here"):
            store.save(saved)
    finally:
        store.folder.chmod(0o700)
    assert store.path(saved.id).read_bytes() == before


def test_a_really_full_disk_leaves_the_last_good_file(
    tiny_disk: Path, questionnaire: Questionnaire
) -> None:
    store = SessionStore(tiny_disk / "sessions")
    session = store.create(questionnaire, "C-1", at=T0)
    before = store.path(session.id).read_bytes()
    filler = tiny_disk / "filler"
    with filler.open("wb", buffering=0) as handle, pytest.raises(OSError):
        while True:
            handle.write(b"x" * 4096)
    interview = session.interview()
    interview.answer("yes")
    session.record_answers(interview.answers)
    with pytest.raises(OutputError, match="the disk is full"):
        store.save(session)
    assert store.path(session.id).read_bytes() == before
    assert files_in(store.folder) == [f"{session.id}.json"]
    assert store.load(session.id, questionnaire).answers == {}


def test_a_temporary_file_left_by_a_killed_process_is_removed(
    store: SessionStore, saved: Session
) -> None:
    leftover = store.folder / f".{saved.id}.json.abc123.tmp"
    leftover.write_text('{"half": ')
    other = store.folder / ".20261101-000000-other.json.abc123.tmp"
    other.write_text("{")
    store.save(saved)
    assert not leftover.exists()
    assert other.exists()  # another session's file is not ours to judge
    assert store.summaries()[1] == []  # temporary files are never listed


# -- SIGKILL between answers ------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from ketscreen import load_questionnaire
    from ketscreen.io.session_store import SessionStore
    from tests.conftest import full_answers

    q = load_questionnaire()
    store = SessionStore()
    session = store.create(q, "C-kill", "Sam")
    print(session.id, flush=True)
    answers = full_answers(craving="yes")
    interview = session.interview()
    while not interview.finished:
        interview.answer(answers[interview.current.id])
        session.record_answers(interview.answers)
        store.save(session)
        print(len(session.answers), flush=True)
        if len(session.answers) == int(sys.argv[1]):
            sys.stdin.readline()   # wait here, between answers, to be killed
    """
)


def start_writer(stop_after: int, home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(stop_after)],
        cwd=ROOT,
        env={**os.environ, "KETSCREEN_HOME": str(home)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    for stream in (proc.stdin, proc.stdout):
        assert stream is not None
        stream.close()


def test_sigkill_between_answers_keeps_the_last_answer_and_resumes(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    proc = start_writer(5, isolated_env)
    assert proc.stdout is not None
    session_id = proc.stdout.readline().strip()
    seen = [proc.stdout.readline().strip() for _ in range(5)]
    assert seen == ["1", "2", "3", "4", "5"]
    kill(proc)
    assert proc.returncode == -signal.SIGKILL

    store = SessionStore()
    session = store.load(session_id, questionnaire)
    assert list(session.answers) == [
        "use_12m",
        "freq_3m",
        "routes",
        "more_than_intended",
        "cut_down_failed",
    ]
    assert files_in(store.folder) == [f"{session_id}.json"]
    interview = session.interview()
    assert interview.current is not None and interview.current.id == "time_spent"
    session.resume()
    answers = full_answers(craving="yes")
    while not interview.finished:
        assert interview.current is not None
        interview.answer(answers[interview.current.id])
        session.record_answers(interview.answers)
        store.save(session)
    session.complete()
    store.save(session)
    result = store.load(session_id, questionnaire).result()
    assert result is not None and result.band == "low" and result.criteria_count == 1


def test_sigkill_at_any_moment_never_leaves_a_broken_file(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    """Killed while writing as fast as it can: the file always loads, answers a prefix."""
    order = list(full_answers())
    for delay_steps in (3, 11, 19):
        proc = start_writer(10_000, isolated_env)  # never pauses
        assert proc.stdout is not None
        session_id = proc.stdout.readline().strip()
        for _ in range(delay_steps):
            proc.stdout.readline()
        kill(proc)
        session = SessionStore().load(session_id, questionnaire)
        assert list(session.answers) == order[: len(session.answers)]
        assert len(session.answers) >= delay_steps


def test_a_new_id_that_is_taken_is_drawn_again(
    store: SessionStore, questionnaire: Questionnaire, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = store.create(questionnaire, "C-1", at=T0)
    ids = iter([first.id, "20261121-100000-bbbbb"])
    monkeypatch.setattr(session_store, "new_session_id", lambda: next(ids))
    second = store.create(questionnaire, "C-2", at=T0)
    assert second.id == "20261121-100000-bbbbb"
    assert store.load(first.id, questionnaire).client == "C-1"
