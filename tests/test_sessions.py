"""Intake sessions in memory and on disk: answers, the event trail, amend, notes, round trips."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketscreen import score
from ketscreen.core.model import Questionnaire
from ketscreen.io.session_store import SessionStore
from ketscreen.io.sessions import EventKind, Session, SessionError, Status
from tests.conftest import full_answers

T0 = "2026-11-21T10:00:00Z"
T1 = "2026-11-21T10:01:00Z"
T2 = "2026-11-21T10:02:00Z"
T3 = "2026-11-21T10:03:00Z"


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "sessions")


def answer_all(session: Session, answers: dict[str, object], at: str = T1) -> None:
    """Drive the interview as the intake screen will: answer, record, next."""
    interview = session.interview()
    while not interview.finished:
        assert interview.current is not None
        interview.answer(answers[interview.current.id])
        session.record_answers(interview.answers, at=at)


def completed(questionnaire: Questionnaire, **overrides: object) -> Session:
    session = Session.start("20261121-100000-abcde", questionnaire, "C-0042", "Sam", at=T0)
    answer_all(session, full_answers(**overrides))
    session.complete(at=T2)
    return session


def test_a_new_session_is_written_at_once_privately(
    store: SessionStore, questionnaire: Questionnaire
) -> None:
    session = store.create(questionnaire, "C-0042", "Sam", at=T0)
    path = store.path(session.id)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.folder.stat().st_mode) == 0o700
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "ketscreen-session/1"
    assert doc["status"] == "in-progress"
    assert doc["questionnaire"] == {
        "id": "ketamine",
        "version": "1.1.0",
        "sha256": questionnaire.sha256,
    }
    assert (doc["client"], doc["counselor"]) == ("C-0042", "Sam")
    assert doc["events"] == [{"at": T0, "event": "started"}]
    assert doc["answers"] == {} and doc["result"] is None


def test_an_existing_open_folder_is_left_alone_with_one_warning(
    tmp_path: Path, questionnaire: Questionnaire
) -> None:
    """Not ours to change (it may be shared on purpose): said once, never chmod'ed."""
    warnings: list[str] = []
    store = SessionStore(tmp_path / "sessions", warn=warnings.append)
    store.folder.mkdir(mode=0o755)
    store.folder.chmod(0o755)
    store.create(questionnaire, "C-1")
    store.create(questionnaire, "C-2")
    assert stat.S_IMODE(store.folder.stat().st_mode) == 0o755
    assert warnings == [
        f"the sessions folder {store.folder} can be opened by other users (mode 0755); "
        f"sessions hold health data: if it is yours, make it private with "
        f"`chmod 700 {store.folder}`"
    ]


def test_answers_are_logged_and_the_result_follows(questionnaire: Questionnaire) -> None:
    session = completed(questionnaire, craving="yes", tolerance="yes", routes=["snort", "inject"])
    answered = [e for e in session.events if e.kind is EventKind.ANSWERED]
    assert len(answered) == len(full_answers())
    assert answered[0].item == "use_12m" and answered[0].new == "yes"
    result = session.result()
    assert result is not None
    expected = score(questionnaire, session.answers, scored_at=T2)
    assert result == expected
    assert result.band == "mild" and result.top_flag_level is not None
    doc = session.to_document()
    assert doc["status"] == "completed"
    assert doc["answers"]["routes"] == ["snort", "inject"]
    assert doc["result"] == expected.to_dict()


def test_going_back_and_changing_is_logged_with_old_and_new(
    questionnaire: Questionnaire,
) -> None:
    session = Session.start("20261121-100000-abcde", questionnaire, "C-1", at=T0)
    interview = session.interview()
    interview.answer("yes")
    session.record_answers(interview.answers, at=T1)
    interview.answer("weekly")
    session.record_answers(interview.answers, at=T1)
    interview.back()
    interview.answer("daily")
    events = session.record_answers(interview.answers, at=T2)
    assert [(e.kind, e.item, e.old, e.new) for e in events] == [
        (EventKind.CHANGED, "freq_3m", "weekly", "daily")
    ]
    # Changing the first answer drops the questions it no longer opens: logged too.
    interview.go_to("use_12m")
    interview.answer("no")
    events = session.record_answers(interview.answers, at=T3)
    assert [(e.item, e.old, e.new) for e in events] == [
        ("use_12m", "yes", "no"),
        ("freq_3m", "daily", None),
    ]
    assert session.answers == {"use_12m": "no"}


def test_nothing_new_means_no_event(questionnaire: Questionnaire) -> None:
    session = Session.start("20261121-100000-abcde", questionnaire, "C-1", at=T0)
    assert session.record_answers({}, at=T1) == []
    assert len(session.events) == 1


def test_complete_needs_every_asked_question(questionnaire: Questionnaire) -> None:
    session = Session.start("20261121-100000-abcde", questionnaire, "C-1", at=T0)
    session.record_answers({"use_12m": "yes"}, at=T1)
    with pytest.raises(
        SessionError, match=r"cannot be completed: 31 questions not answered yet \(first: freq_3m\)"
    ):
        session.complete()
    assert session.status is Status.IN_PROGRESS


def test_amend_records_old_new_time_and_reason(questionnaire: Questionnaire) -> None:
    session = completed(questionnaire, craving="yes")
    assert session.result().band == "low"  # type: ignore[union-attr]
    events = session.amend("tolerance", "yes", "  client clarified\nafter a break ", at=T3)
    assert [e.to_dict() for e in events] == [
        {
            "at": T3,
            "event": "amended",
            "item": "tolerance",
            "old": "no",
            "new": "yes",
            "reason": "client clarified after a break",
        }
    ]
    assert session.status is Status.AMENDED
    assert session.result().band == "mild"  # type: ignore[union-attr]
    assert session.amendments == events
    assert session.completed_at == T2 and session.updated == T3
    # A second amendment appends; the first stays.
    session.amend("craving", "no", "misheard", at=T3)
    assert [e.item for e in session.amendments] == ["tolerance", "craving"]


def test_amend_that_closes_questions_records_each_dropped_answer(
    questionnaire: Questionnaire,
) -> None:
    session = completed(questionnaire)
    events = session.amend("use_12m", "no", "did not use", at=T3)
    assert events[0].item == "use_12m"
    assert {e.item for e in events} >= {"freq_3m", "routes", "readiness"}
    assert all(e.reason == "did not use" for e in events)
    assert all(e.new is None for e in events[1:])
    assert session.answers == {"use_12m": "no", "self_harm": "no"}
    assert session.result().band == "no_recent_use"  # type: ignore[union-attr]


def test_amend_refusals(questionnaire: Questionnaire) -> None:
    session = Session.start("20261121-100000-abcde", questionnaire, "C-1", at=T0)
    with pytest.raises(SessionError, match="only a completed session can be amended"):
        session.amend("use_12m", "no", "why")
    session = completed(questionnaire)
    with pytest.raises(SessionError, match="the reason is empty"):
        session.amend("craving", "yes", "   ")
    with pytest.raises(SessionError, match="not asked with this session's answers"):
        no_use = Session.start("20261121-100000-abcde", questionnaire, "C-1", at=T0)
        answer_all(no_use, {"use_12m": "no", "self_harm": "no"})
        no_use.complete()
        no_use.amend("craving", "yes", "said so later")
    assert session.amend("craving", "no", "same as before") == []
    assert session.status is Status.COMPLETED


def test_resume_interrupt_and_stop(questionnaire: Questionnaire) -> None:
    session = Session.start("20261121-100000-abcde", questionnaire, "C-1", at=T0)
    session.interrupt(at=T1)
    session.resume(at=T2)
    session.stop(at=T3)
    assert session.status is Status.STOPPED
    with pytest.raises(SessionError, match="cannot interrupt session .* it is stopped"):
        session.interrupt()
    session.resume(at=T3)  # a stopped session can be taken up again
    assert [e.kind.value for e in session.events] == [
        "started",
        "interrupted",
        "resumed",
        "stopped",
        "resumed",
    ]
    done = completed(questionnaire)
    with pytest.raises(SessionError, match="is completed; to change its answers use --amend"):
        done.resume()


def test_resume_continues_at_the_first_unanswered_question(
    questionnaire: Questionnaire,
) -> None:
    session = Session.start("20261121-100000-abcde", questionnaire, "C-1", at=T0)
    interview = session.interview()
    for value in ("yes", "weekly", ["snort"], "yes"):
        interview.answer(value)
    session.record_answers(interview.answers, at=T1)
    resumed = session.interview()
    assert resumed.current is not None and resumed.current.id == "cut_down_failed"
    assert session.unanswered()[0] == "cut_down_failed"


def test_notes(questionnaire: Questionnaire) -> None:
    session = Session.start("20261121-100000-abcde", questionnaire, "C-1", at=T0)
    session.add_note("  weekend   binges ", "craving", at=T1)
    session.add_note("Engaged.\n\n  Will come back next week.", at=T2)
    doc = session.to_document()
    assert doc["item_notes"] == {"craving": [{"at": T1, "text": "weekend binges"}]}
    assert doc["general_notes"] == [{"at": T2, "text": "Engaged.\nWill come back next week."}]
    with pytest.raises(SessionError, match="not a question"):
        session.add_note("x", "nope")
    with pytest.raises(SessionError, match="the note is empty"):
        session.add_note(" \n ")
    with pytest.raises(SessionError, match="control characters"):
        session.add_note("bell\x07")
    with pytest.raises(SessionError, match="longer than 4000"):
        session.add_note("x" * 4001)


@pytest.mark.parametrize(
    ("client", "message"),
    [("", "client id is empty"), ("x" * 65, "longer than 64"), ("a\x1b[31m", "control")],
)
def test_client_ids_are_short_plain_pseudonyms(
    questionnaire: Questionnaire, client: str, message: str
) -> None:
    with pytest.raises(SessionError, match=message):
        Session.start("20261121-100000-abcde", questionnaire, client)


def test_counselor_is_optional_but_checked(questionnaire: Questionnaire) -> None:
    assert Session.start("x", questionnaire, "C-1").counselor is None
    with pytest.raises(SessionError, match="counselor name is empty"):
        Session.start("x", questionnaire, "C-1", " ")


def test_save_and_load_round_trip_is_exact(
    store: SessionStore, questionnaire: Questionnaire
) -> None:
    session = completed(questionnaire, craving="yes", routes=["inject", "snort"])
    session.add_note("note about craving", "craving", at=T2)
    session.add_note("general", at=T2)
    session.amend("craving", "declined", "client asked to withdraw it", at=T3)
    store.save(session)
    before = store.path(session.id).read_bytes()
    loaded = store.load(session.id, questionnaire)
    assert loaded == session
    store.save(loaded)
    assert store.path(session.id).read_bytes() == before


def test_a_session_can_be_loaded_from_a_path(
    store: SessionStore, questionnaire: Questionnaire, tmp_path: Path
) -> None:
    session = store.create(questionnaire, "C-1", at=T0)
    copy = tmp_path / "copy.json"
    copy.write_bytes(store.path(session.id).read_bytes())
    assert store.load(str(copy), questionnaire).id == session.id


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(picks=st.lists(st.integers(min_value=0, max_value=99), min_size=1, max_size=60))
def test_any_walk_through_the_interview_survives_a_round_trip(
    questionnaire: Questionnaire, tmp_path_factory: pytest.TempPathFactory, picks: list[int]
) -> None:
    """Answers, declines and going back, saved after every step, always load back equal."""
    store = SessionStore(tmp_path_factory.mktemp("walk") / "sessions")
    session = store.create(questionnaire, "C-1", at=T0)
    interview = session.interview()
    for pick in picks:
        item = interview.current
        if item is None:
            break
        if pick % 10 == 0 and interview.back():
            continue
        if pick % 10 == 1 and item.allow_decline:
            interview.decline()
        elif item.type.value == "multi":
            interview.answer([c for i, c in enumerate(item.codes) if (pick >> i) & 1] or "snort")
        else:
            interview.answer(item.codes[pick % len(item.codes)])
        session.record_answers(interview.answers, at=T1)
        store.save(session)
        loaded = store.load(session.id, questionnaire)
        assert loaded.answers == interview.answers
        assert loaded == session
