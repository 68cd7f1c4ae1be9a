"""A counselor's intake session: answers, notes, an append-only event trail, and its file format.

A session is one JSON document, `format: ketscreen-session/1` (DESIGN.md "Sessions"):

    {
      "format": "ketscreen-session/1",
      "id": "20261121-154012-k7m2q",
      "questionnaire": {"id": "ketamine", "version": "1.0.0", "sha256": "..."},
      "tool_version": "0.1.0",
      "client": "C-0042",                  a pseudonym the counselor chooses
      "counselor": "Sam" | null,
      "region": "UK" | null,               whose helplines the intake showed (optional)
      "status": "in-progress" | "completed" | "amended" | "stopped",
      "answers": {"use_12m": "yes", "routes": ["snort"], ...},
      "item_notes": {"craving": [{"at": "...Z", "text": "..."}]},
      "general_notes": [{"at": "...Z", "text": "..."}],
      "next_steps": {"at": "...Z", "text": "..."},
                                           what the client and counselor agreed at the
                                           end, for the client's take-home sheet
                                           (optional; absent until written)
      "battery": {"id": "...", "sessions": [ids], "instruments": ["ketamine 1.1.0", ...]},
                                           when the session is one instrument of a battery
                                           asked in one sitting (optional; kept as written)
      "safety_notes": [{"at": "...Z", "item": "self_harm", "answer": "now",
                        "level": "emergency", "text": "..." | ""}],
                                           the counselor's note after a positive safety
                                           answer ("" when left empty); optional
      "events": [{"at": "...Z", "event": "started"},
                 {"at": "...Z", "event": "answered", "item": "use_12m", "answer": "yes"},
                 {"at": "...Z", "event": "changed", "item": "...", "old": ..., "new": ...},
                 {"at": "...Z", "event": "amended", "item": "...", "old": ..., "new": ...,
                  "reason": "..."}, ...],
      "result": {... Result.to_dict() ...} | null
    }

Every field is checked when a file is read (types, timestamps, ids, that answers are
stored exactly as codes, that the status agrees with the events and the answers), and a
problem is named by its field path, never by its value. Fields this version does not
know (at the top level, in an event or in a note) are kept and written back as they
were, so a newer ketscreen's additions survive a resume with this one.

Statuses are those of a FHIR QuestionnaireResponse. Times are UTC, ISO 8601. When a
session started, was last changed and was completed are read from the events, so they
can never disagree with them. The stored `result` is for other programs; ketscreen
itself always recomputes it from the answers, which is safe because a session is only
ever opened with the exact questionnaire (id, version and hash) it was recorded with.

This module holds no paths: `session_store` reads and writes the files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

import orjson

from ketscreen import __version__
from ketscreen.core.conditions import Answer
from ketscreen.core.interview import Interview
from ketscreen.core.model import FlagLevel, Questionnaire
from ketscreen.core.normalize import Answers, normalize_answer
from ketscreen.core.safe_text import without_controls
from ketscreen.core.scoring import Result, asked_items, score, utc_now
from ketscreen.errors import AnswerError, KetscreenError, quote_value
from ketscreen.io.resources import REGIONS

FORMAT = "ketscreen-session/1"
BATTERY_FIELD = "battery"
"""The optional top-level field that links the sessions of one battery intake."""
MAX_CLIENT = 64
MAX_COUNSELOR = 100
MAX_NOTE = 4000
MAX_REASON = 500


class SessionError(KetscreenError):
    """A session that cannot be found, read, used or changed as asked."""


class Status(str, Enum):
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    AMENDED = "amended"
    STOPPED = "stopped"


class EventKind(str, Enum):
    STARTED = "started"
    ANSWERED = "answered"
    CHANGED = "changed"
    INTERRUPTED = "interrupted"
    RESUMED = "resumed"
    COMPLETED = "completed"
    STOPPED = "stopped"
    AMENDED = "amended"


@dataclass(frozen=True)
class Event:
    """One entry of the append-only trail. `old`/`new` None means "no answer"."""

    kind: EventKind
    at: str
    item: str | None = None
    old: Answer | None = None
    new: Answer | None = None
    reason: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    """Keys of the file's event that this version does not know, kept as they were."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"at": self.at, "event": self.kind.value}
        if self.kind is EventKind.ANSWERED:
            data.update(item=self.item, answer=_plain(self.new))
        elif self.kind in (EventKind.CHANGED, EventKind.AMENDED):
            data.update(item=self.item, old=_plain(self.old), new=_plain(self.new))
        if self.reason is not None:
            data["reason"] = self.reason
        return _with_extra(data, self.extra)


@dataclass(frozen=True)
class Note:
    at: str
    text: str
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return _with_extra({"at": self.at, "text": self.text}, self.extra)


def _with_extra(data: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`data` followed by the unknown fields read from the file (which never override)."""
    for key, value in extra.items():
        data.setdefault(key, value)
    return data


@dataclass(frozen=True)
class SafetyNote:
    """What the counselor recorded after a crisis or emergency answer (CONTENT.md sec. 4).

    `text` is "" when the counselor left it empty, which is recorded as such.
    """

    at: str
    item: str
    answer: str
    level: str
    text: str
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "at": self.at,
            "item": self.item,
            "answer": self.answer,
            "level": self.level,
            "text": self.text,
        }
        return _with_extra(data, self.extra)


def _plain(answer: Answer | None) -> str | list[str] | None:
    return list(answer) if isinstance(answer, tuple) else answer


def typed_note_parts(text: str) -> list[str]:
    """Free text as typed at a terminal, made storable rather than refused.

    Escape sequences (arrow keys pressed to fix a typo) and other control characters
    are removed, spaces are tidied, and a note longer than MAX_NOTE characters is cut
    into parts of at most that length. An empty list when nothing is left.
    """
    text = without_controls(text)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    text = "\n".join(line for line in lines if line)
    return [text[i : i + MAX_NOTE].strip() for i in range(0, len(text), MAX_NOTE)]


def _printable(text: str, what: str, limit: int, *, multiline: bool = False) -> str:
    """Tidy free text typed by a counselor; refuse what cannot be stored or shown safely."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    cleaned = ("\n" if multiline else " ").join(line for line in lines if line)
    if not cleaned:
        raise SessionError(f"{what} is empty")
    if len(cleaned) > limit:
        raise SessionError(f"{what} is longer than {limit} characters; shorten it")
    if any(ch != "\n" and not ch.isprintable() for ch in cleaned):
        raise SessionError(f"{what} contains control characters; type plain text")
    return cleaned


def check_client(client: str) -> str:
    """A client id is a short pseudonym, one line of printable text."""
    return _printable(client, "the client id", MAX_CLIENT)


def check_reason(reason: str) -> str:
    """The reason recorded with an amendment: one line of printable text."""
    return _printable(reason, "the reason", MAX_REASON)


def check_counselor(counselor: str | None) -> str | None:
    return None if counselor is None else _printable(counselor, "the counselor name", MAX_COUNSELOR)


@dataclass
class Session:
    """One intake, in memory. Change it through its methods; `session_store` saves it."""

    id: str
    questionnaire: Questionnaire
    client: str
    counselor: str | None
    status: Status
    answers: Answers = field(default_factory=dict)
    item_notes: dict[str, list[Note]] = field(default_factory=dict)
    general_notes: list[Note] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    region: str | None = None
    """The region whose helplines the intake showed; reports use it by default."""
    safety_notes: list[SafetyNote] = field(default_factory=list)
    next_steps: Note | None = None
    """The next steps agreed at the end of the intake, in the client's words (for the
    take-home sheet); None until written."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Top-level fields of the file that this version does not know, written back as
    they were."""

    @classmethod
    def start(
        cls,
        session_id: str,
        questionnaire: Questionnaire,
        client: str,
        counselor: str | None = None,
        *,
        at: str | None = None,
        region: str | None = None,
    ) -> Session:
        session = cls(
            session_id,
            questionnaire,
            check_client(client),
            check_counselor(counselor),
            Status.IN_PROGRESS,
            region=region,
        )
        session.events.append(Event(EventKind.STARTED, at or utc_now()))
        return session

    # -- reading ---------------------------------------------------------------------

    @property
    def started(self) -> str:
        return self.events[0].at

    @property
    def updated(self) -> str:
        return self.events[-1].at

    @property
    def completed_at(self) -> str | None:
        """When the interview was (last) completed, or None."""
        for event in reversed(self.events):
            if event.kind is EventKind.COMPLETED:
                return event.at
        return None

    @property
    def amendments(self) -> list[Event]:
        return [e for e in self.events if e.kind is EventKind.AMENDED]

    def result(self) -> Result | None:
        """The result of the answers so far (None before the first required answer).

        Scored "at" the session's last change, so the same session always gives the
        same result.
        """
        try:
            return score(self.questionnaire, self.answers, scored_at=self.updated)
        except AnswerError:
            return None

    def interview(self) -> Interview:
        """An interview over these answers, at the first unanswered question."""
        return Interview(self.questionnaire, self.answers)

    def unanswered(self) -> list[str]:
        """Asked questions with no answer yet (declined counts as answered)."""
        return [i for i in asked_items(self.questionnaire, self.answers) if i not in self.answers]

    # -- changing --------------------------------------------------------------------

    def record_answers(
        self, answers: Mapping[str, Answer], *, at: str | None = None
    ) -> list[Event]:
        """Take the interview's answers as they now stand; log what changed.

        A new answer is `answered`; a different or removed answer (going back, or skip
        logic dropping a question) is `changed`. Returns the new events.
        """
        self._require(Status.IN_PROGRESS, "record answers in")
        at = at or utc_now()
        new: list[Event] = []
        for item_id in self.questionnaire.order:
            old, now = self.answers.get(item_id), answers.get(item_id)
            if old == now:
                continue
            kind = EventKind.ANSWERED if old is None else EventKind.CHANGED
            new.append(Event(kind, at, item_id, old, now))
        self.answers = {i: answers[i] for i in self.questionnaire.order if i in answers}
        self.events.extend(new)
        return new

    def add_note(self, text: str, item: str | None = None, *, at: str | None = None) -> Note:
        """A note about one question (`item`), or a general note."""
        note = Note(at or utc_now(), _printable(text, "the note", MAX_NOTE, multiline=True))
        if item is None:
            self.general_notes.append(note)
        elif item in self.questionnaire.items:
            self.item_notes.setdefault(item, []).append(note)
        else:
            raise SessionError(f"{item} is not a question of this questionnaire")
        return note

    def set_next_steps(self, text: str, *, at: str | None = None) -> Note:
        """Record (or replace) the next steps agreed with the client."""
        self.next_steps = Note(
            at or utc_now(), _printable(text, "the next steps", MAX_NOTE, multiline=True)
        )
        return self.next_steps

    def add_safety_note(
        self, item: str, answer: str, level: str, text: str, *, at: str | None = None
    ) -> SafetyNote:
        """The counselor's safety note after a positive safety answer; "" = left empty."""
        if item not in self.questionnaire.items:
            raise SessionError(f"{item} is not a question of this questionnaire")
        note = SafetyNote(at or utc_now(), item, answer, level, " ".join(typed_note_parts(text)))
        self.safety_notes.append(note)
        return note

    def interrupt(self, *, at: str | None = None) -> None:
        """Ctrl-C: the session stays in progress, to be resumed."""
        self._require(Status.IN_PROGRESS, "interrupt")
        self.events.append(Event(EventKind.INTERRUPTED, at or utc_now()))

    def resume(self, *, at: str | None = None) -> None:
        if self.status in (Status.COMPLETED, Status.AMENDED):
            raise SessionError(
                f"session {self.id} is {self.status.value}; "
                "to change its answers use --amend ID --reason TEXT"
            )
        self.status = Status.IN_PROGRESS
        self.events.append(Event(EventKind.RESUMED, at or utc_now()))

    def complete(self, *, at: str | None = None) -> None:
        self._require(Status.IN_PROGRESS, "complete")
        missing = self.unanswered()
        if missing:
            count = len(missing)
            raise SessionError(
                f"session {self.id} cannot be completed: {count} question"
                f"{'s' if count != 1 else ''} not answered yet (first: {missing[0]})"
            )
        self.status = Status.COMPLETED
        self.events.append(Event(EventKind.COMPLETED, at or utc_now()))

    def stop(self, *, at: str | None = None) -> None:
        """End the session early on purpose (FHIR `stopped`); it can still be resumed."""
        self._require(Status.IN_PROGRESS, "stop")
        self.status = Status.STOPPED
        self.events.append(Event(EventKind.STOPPED, at or utc_now()))

    def amend(self, item: str, value: object, reason: str, *, at: str | None = None) -> list[Event]:
        """Change an answer of a completed session, with a reason; the result follows.

        Answers that skip logic no longer asks are removed (and logged with the same
        reason). Returns the new events; none when the answer is unchanged.
        """
        if self.status not in (Status.COMPLETED, Status.AMENDED):
            raise SessionError(
                f"session {self.id} is {self.status.value}; only a completed session can be "
                "amended (resume it with --resume ID)"
            )
        reason = check_reason(reason)
        at = at or utc_now()
        interview = self.interview()
        try:
            interview.change(item, value)
        except KeyError:
            raise SessionError(
                f"{item} is not asked with this session's answers, so it cannot be amended"
            ) from None
        before = self.answers
        events = [
            Event(EventKind.AMENDED, at, i, before.get(i), interview.answers.get(i), reason)
            for i in self.questionnaire.order
            if before.get(i) != interview.answers.get(i)
        ]
        if events:
            self.answers = {
                i: interview.answers[i] for i in self.questionnaire.order if i in interview.answers
            }
            self.status = Status.AMENDED
            self.events.extend(events)
        return events

    def _require(self, status: Status, action: str) -> None:
        if self.status is not status:
            raise SessionError(f"cannot {action} session {self.id}: it is {self.status.value}")

    # -- the file format -------------------------------------------------------------

    def to_document(self) -> dict[str, Any]:
        result = self.result()
        q = self.questionnaire
        doc: dict[str, Any] = {
            "format": FORMAT,
            "id": self.id,
            "questionnaire": {"id": q.id, "version": q.version, "sha256": q.sha256},
            "tool_version": __version__,
            "client": self.client,
            "counselor": self.counselor,
            "region": self.region,
            "status": self.status.value,
            "answers": {k: _plain(v) for k, v in self.answers.items()},
            "item_notes": {k: [n.to_dict() for n in v] for k, v in self.item_notes.items()},
            "general_notes": [n.to_dict() for n in self.general_notes],
            "safety_notes": [n.to_dict() for n in self.safety_notes],
            "events": [e.to_dict() for e in self.events],
            "result": result.to_dict() if result else None,
        }
        if self.next_steps is not None:  # absent until written: older files stay as they were
            doc["next_steps"] = self.next_steps.to_dict()
        return _with_extra(doc, self.extra)

    def to_json(self) -> str:
        return json.dumps(self.to_document(), indent=2, ensure_ascii=False) + "\n"


# -- reading the file format ---------------------------------------------------------

SESSION_ID = re.compile(r"\d{8}-\d{6}-[2-9a-hjkmnp-tv-z]{5}", re.ASCII)
"""A session id: UTC start time to the second, then 5 characters without look-alikes."""

_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?Z", re.ASCII
)
"""A UTC time as sessions store it; the date is checked against the calendar too."""
_REAL_DATES: set[str] = set()
"""Dates (YYYY-MM-DD) found on the calendar: a session's many times share a few."""
_SHA256 = re.compile(r"[0-9a-f]{64}")

TOP_LEVEL_KEYS = frozenset(
    {
        "format",
        "id",
        "questionnaire",
        "tool_version",
        "client",
        "counselor",
        "region",
        "status",
        "answers",
        "item_notes",
        "general_notes",
        "safety_notes",
        "next_steps",
        "events",
        "result",
    }
)
"""The fields this version reads; any other top-level field is kept as it is."""
_NOTE_KEYS = frozenset({"at", "text"})
_SAFETY_NOTE_KEYS = frozenset({"at", "item", "answer", "level", "text"})
_ITEM_KINDS = (EventKind.ANSWERED, EventKind.CHANGED, EventKind.AMENDED)


def _event_keys(kind: EventKind) -> frozenset[str]:
    if kind is EventKind.ANSWERED:
        return frozenset({"at", "event", "item", "answer", "reason"})
    if kind in _ITEM_KINDS:
        return frozenset({"at", "event", "item", "old", "new", "reason"})
    return frozenset({"at", "event", "reason"})


_STATUS_AFTER = {
    EventKind.STARTED: Status.IN_PROGRESS,
    EventKind.RESUMED: Status.IN_PROGRESS,
    EventKind.INTERRUPTED: Status.IN_PROGRESS,
    EventKind.STOPPED: Status.STOPPED,
    EventKind.COMPLETED: Status.COMPLETED,
    EventKind.AMENDED: Status.AMENDED,
}
"""The status each event leaves a session in (answers and changes leave it as it was)."""
_STATUS_AFTER_VALUE = {kind.value: status for kind, status in _STATUS_AFTER.items()}
_STATUSES = frozenset(status.value for status in Status)


class FormatProblem(Exception):
    """Why a document is not a valid session (internal; becomes a SessionError)."""


def parse_document(text: str, *, kept: bool = True) -> dict[str, Any]:
    """JSON text -> a document whose every field is checked (not yet against a
    questionnaire: `session_from_document` does that). With `kept` False (batch scoring,
    which saves nothing back) a number past 64 bits may be read as a float: a kept file
    keeps every value of the fields it does not know as it was.

    Raises FormatProblem with a short reason naming the field, never quoting free text.
    """
    if not text.strip():
        raise FormatProblem("the file is empty (truncated)")
    try:
        doc = _loads(text, exact=kept)
    except json.JSONDecodeError as exc:
        raise FormatProblem(
            f"not valid JSON at line {exc.lineno}, column {exc.colno}; "
            "the file is truncated or corrupted"
        ) from None
    except (ValueError, RecursionError):  # a number too long, nesting too deep
        raise FormatProblem("not a ketscreen session (a value JSON readers refuse)") from None
    if not isinstance(doc, dict):
        raise FormatProblem("not a ketscreen session (the top level is not an object)")
    tag = doc.get("format")
    if tag != FORMAT:
        if isinstance(tag, str) and tag.startswith("ketscreen-session/"):
            raise FormatProblem(
                f"format {quote_value(str(tag))} is not one this ketscreen reads ({FORMAT})"
            )
        raise FormatProblem(f"not a ketscreen session (no 'format: {FORMAT}')")
    if not SESSION_ID.fullmatch(_expect(doc, "id", str)):
        raise FormatProblem("id: not a session id (they look like 20261121-154012-k7m2q)")
    _text(doc, "client", MAX_CLIENT)
    if doc.get("counselor") is not None or "counselor" not in doc:
        _text(doc, "counselor", MAX_COUNSELOR)
    if "tool_version" in doc:
        _expect(doc, "tool_version", str)
    region = doc.get("region")
    if region is not None and region not in REGIONS:
        raise FormatProblem(f"region {quote_value(str(region))} is not one of {', '.join(REGIONS)}")
    q = _expect(doc, "questionnaire", dict)
    for key in ("id", "version", "sha256"):
        _expect(q, key, str, f"questionnaire.{key}")
    if not _SHA256.fullmatch(q["sha256"]):
        raise FormatProblem("questionnaire.sha256: not a SHA-256 (64 hexadecimal digits)")
    status = _expect(doc, "status", str)
    if status not in _STATUSES:
        raise FormatProblem(
            f"status {quote_value(str(status))} is not one of {', '.join(s.value for s in Status)}"
        )
    answers = _expect(doc, "answers", dict)
    for item, value in answers.items():
        if type(value) is not str:  # a code: the common case, checked without a message
            _answer_shape(value, f"answers.{_key(item)}", allow_none=False)
    notes = _expect(doc, "item_notes", dict)
    for item, entries in notes.items():
        _notes(entries, f"item_notes.{_key(item)}")
    _notes(_expect(doc, "general_notes", list), "general_notes")
    _safety_notes(doc.get("safety_notes", []))
    if "next_steps" in doc:
        steps = _expect(doc, "next_steps", dict)
        _timestamp(steps, "next_steps")
        _text(steps, "text", MAX_NOTE, "next_steps.text")
    events = _expect(doc, "events", list)
    if not events:
        raise FormatProblem("events: the list is empty")
    for index, event in enumerate(events):
        _event(event, f"events[{index}]")
    if events[0]["event"] != EventKind.STARTED.value:
        raise FormatProblem("events: the first event is not 'started'")
    implied = Status.IN_PROGRESS
    for event in events:
        implied = _STATUS_AFTER_VALUE.get(event["event"], implied)
    if implied.value != status:
        raise FormatProblem(
            f"status: the file says {status}, but its events leave it {implied.value}"
        )
    result = doc.get("result")
    if result is not None and not isinstance(result, dict):
        raise FormatProblem("result: must be an object or null")
    return doc


def _key(key: str) -> str:
    """A key of the file, for a message: a field path part, or only its length."""
    return key if re.fullmatch(r"[a-z0-9_]{1,64}", key) else f"<a key of {len(key)} characters>"


def _expect(data: Mapping[str, Any], key: str, kind: Any, where: str | None = None) -> Any:
    where = where or key
    if key not in data:
        raise FormatProblem(f"{where}: missing")
    value = data[key]
    if not isinstance(value, kind):
        # a number, not int or float: orjson reads an integer past 64 bits as a float
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        raise FormatProblem(f"{where}: wrong type ({'number' if number else type(value).__name__})")
    return value


def _text(data: Mapping[str, Any], key: str, limit: int, where: str | None = None) -> str:
    where = where or key
    value: str = _expect(data, key, str, where)
    if not value.strip():
        raise FormatProblem(f"{where}: empty")
    if len(value) > limit:
        raise FormatProblem(f"{where}: longer than {limit} characters")
    return value


def _timestamp(data: Mapping[str, Any], where: str) -> None:
    value = _expect(data, "at", str, f"{where}.at")
    if _TIMESTAMP.fullmatch(value) is None or not _real_date(value[:10]):
        raise FormatProblem(
            f"{where}.at: not a UTC time such as 2026-11-21T15:40:12Z (the file is damaged)"
        )


def _real_date(text: str) -> bool:
    """Whether YYYY-MM-DD is a day of the calendar (remembered when it is)."""
    if text in _REAL_DATES:
        return True
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    if len(_REAL_DATES) < 4096:
        _REAL_DATES.add(text)
    return True


def _notes(entries: Any, where: str) -> None:
    if not isinstance(entries, list):
        raise FormatProblem(f"{where}: must be a list")
    for index, note in enumerate(entries):
        if not isinstance(note, dict):
            raise FormatProblem(f"{where}[{index}]: must be an object")
        _timestamp(note, f"{where}[{index}]")
        _text(note, "text", MAX_NOTE, f"{where}[{index}].text")


def _answer_shape(value: Any, where: str, *, allow_none: bool = True) -> None:
    """A stored answer is a code, a non-empty list of codes, or (in events) null."""
    if value is None and allow_none:
        return
    if isinstance(value, str):
        return
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return
    shape = "a code or a list of codes" + (", or null" if allow_none else "")
    raise FormatProblem(f"{where}: must be {shape}, not {_kind_of(value)}")


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "an empty list" if not value else "a list holding something else than codes"
    return {bool: "true/false", int: "a number", float: "a number", dict: "an object"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _safety_notes(entries: Any) -> None:
    if not isinstance(entries, list):
        raise FormatProblem("safety_notes: must be a list")
    for index, note in enumerate(entries):
        where = f"safety_notes[{index}]"
        if not isinstance(note, dict):
            raise FormatProblem(f"{where}: must be an object")
        _timestamp(note, where)
        for key in ("item", "answer", "level", "text"):
            _expect(note, key, str, f"{where}.{key}")
        if note["level"] not in _FLAG_LEVELS:
            raise FormatProblem(f"{where}.level: not one of the alert levels")


def _event(event: Any, where: str) -> None:
    if not isinstance(event, dict):
        raise FormatProblem(f"{where}: must be an object")
    _timestamp(event, where)
    kind = _expect(event, "event", str, f"{where}.event")
    if kind not in _EVENT_KINDS:
        raise FormatProblem(f"{where}.event: unknown event {quote_value(str(kind))}")
    if "item" in event:  # an item is text on every event (kept as it is where unused)
        _expect(event, "item", str, f"{where}.item")
    if kind == _ANSWERED:
        _expect(event, "item", str, f"{where}.item")
        _expect(event, "answer", _ANSWER_VALUE, f"{where}.answer")
        _answer_shape(event["answer"], f"{where}.answer", allow_none=False)
    elif kind in _CHANGES:
        _expect(event, "item", str, f"{where}.item")
        for key in ("old", "new"):
            _expect(event, key, _ANSWER_VALUE, f"{where}.{key}")
            _answer_shape(event[key], f"{where}.{key}")
    if kind == _AMENDED or "reason" in event:
        _text(event, "reason", MAX_REASON, f"{where}.reason")


_ANSWER_VALUE = (str, list, type(None))
_EVENT_KINDS = frozenset(kind.value for kind in EventKind)
_ANSWERED = EventKind.ANSWERED.value
_AMENDED = EventKind.AMENDED.value
_CHANGES = (EventKind.CHANGED.value, EventKind.AMENDED.value)
_FLAG_LEVELS = frozenset(level.value for level in FlagLevel)
_LONG_NUMBER = re.compile(r"[0-9]{19}")


def _loads(text: str, *, exact: bool) -> Any:
    """`json.loads`, by orjson where that gives the same session (a batch reads many),
    and `json` itself for anything orjson refuses, so that errors (and NaN, which `json`
    reads) stay as they were; both keep the last of two equal keys. orjson reads an
    integer past 64 bits as a float: with `exact`, a text with 19 digits in a row goes to
    `json`. Without, the session is still the same: no field of a session is a number,
    and a number where text belongs is refused alike, whichever kind it is."""
    if not exact or _LONG_NUMBER.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def check_questionnaire(doc: Mapping[str, Any], questionnaire: Questionnaire) -> None:
    """Refuse a session recorded with another questionnaire, naming both."""
    recorded = doc["questionnaire"]
    ours = f"{questionnaire.id} {questionnaire.version}"
    theirs = f"{recorded['id']} {recorded['version']}"
    if recorded["id"] != questionnaire.id or recorded["version"] != questionnaire.version:
        raise SessionError(
            f"session {doc['id']} was recorded with questionnaire {theirs}, but this "
            f"questionnaire is {ours}; open it with the same version "
            f"(--questionnaire PATH to a copy of {theirs}, or the ketscreen release that "
            "shipped it)"
        )
    if recorded["sha256"] != questionnaire.sha256:
        raise SessionError(
            f"session {doc['id']} was recorded with questionnaire {theirs} "
            f"(sha256 {recorded['sha256'][:12]}...), but this copy of {ours} has different "
            f"content (sha256 {questionnaire.sha256[:12]}...); open it with the exact file "
            "it was recorded with (--questionnaire PATH)"
        )


def _stored_answer(
    questionnaire: Questionnaire, item_id: str, value: Any, where: str
) -> Answer | None:
    """A stored answer, exactly as ketscreen writes it, or FormatProblem.

    Answers are never rewritten on the way in: a code in other case or with spaces, a
    list out of the questionnaire's order or with repeats is refused, not tidied, so
    what the file says is what every report shows.
    """
    item = questionnaire.items[item_id]
    try:
        answer = normalize_answer(item, value)
    except AnswerError as exc:
        raise FormatProblem(f"{where}: {str(exc).removeprefix(f'{exc.item}: ')}") from None
    if answer is None and value is not None:
        raise FormatProblem(f"{where}: empty; an unanswered question is left out")
    if _plain(answer) != value:
        raise FormatProblem(
            f"{where}: not stored exactly as ketscreen writes it (case, spaces, order or "
            "repeats differ), and answers are never rewritten silently; correct the file "
            f"by hand to the codes: {', '.join(item.allowed_codes)}"
        )
    return answer


def session_from_document(doc: Mapping[str, Any], questionnaire: Questionnaire) -> Session:
    """A checked document -> Session. Raises FormatProblem when answers, notes or events
    do not fit the questionnaire, or the status does not fit the answers."""
    check_questionnaire(doc, questionnaire)
    items = questionnaire.items
    for where, item_id in [
        *(("answers", i) for i in doc["answers"]),
        *(("item_notes", i) for i in doc["item_notes"]),
        *(("events", e["item"]) for e in doc["events"] if EventKind(e["event"]) in _ITEM_KINDS),
        *(("safety_notes", n["item"]) for n in doc.get("safety_notes", [])),
    ]:
        if item_id not in items:
            raise FormatProblem(
                f"{where}: {quote_value(str(item_id))} is not an item of this questionnaire"
            )
    answers: Answers = {}
    for item_id in questionnaire.order:
        if item_id in doc["answers"]:
            value = doc["answers"][item_id]
            answer = _stored_answer(questionnaire, item_id, value, f"answers.{item_id}")
            assert answer is not None  # the shape check refused empty answers
            answers[item_id] = answer
    asked = asked_items(questionnaire, answers)
    for item_id in answers:
        if item_id not in asked:
            raise FormatProblem(f"answers: {item_id} is answered but not asked (skip logic)")
    status = Status(doc["status"])
    if status in (Status.COMPLETED, Status.AMENDED):
        missing = [i for i in asked if i not in answers]
        if missing:
            raise FormatProblem(
                f"status: {status.value}, but {len(missing)} asked question"
                f"{'s have' if len(missing) != 1 else ' has'} no answer (first: {missing[0]})"
            )
    events = [
        _event_from(e, questionnaire, f"events[{index}]") for index, e in enumerate(doc["events"])
    ]
    return Session(
        id=doc["id"],
        questionnaire=questionnaire,
        client=doc["client"],
        counselor=doc["counselor"],
        region=doc.get("region"),
        status=status,
        answers=answers,
        item_notes={
            item: [_note_from(n) for n in notes] for item, notes in doc["item_notes"].items()
        },
        general_notes=[_note_from(n) for n in doc["general_notes"]],
        safety_notes=[
            SafetyNote(
                n["at"],
                n["item"],
                n["answer"],
                n["level"],
                n["text"],
                {k: v for k, v in n.items() if k not in _SAFETY_NOTE_KEYS},
            )
            for n in doc.get("safety_notes", [])
        ],
        next_steps=_note_from(doc["next_steps"]) if "next_steps" in doc else None,
        events=events,
        extra={k: v for k, v in doc.items() if k not in TOP_LEVEL_KEYS},
    )


def stored_result_agrees(doc: Mapping[str, Any], session: Session) -> bool:
    """Whether the file's stored `result` says what its answers give: the same band,
    scores and flags (ketscreen always shows what the answers give; another program
    reading the file might trust the stored one). A result stored by another ketscreen
    version is not judged: a newer engine may say more (such as `not_assessed`)."""
    result = session.result()
    stored = doc.get("result")
    if result is None or stored is None:
        return result is None and stored is None
    provenance = stored.get("provenance")
    if not isinstance(provenance, dict) or provenance.get("tool_version") != __version__:
        return True
    ours = result.to_dict()
    keys = ("band", "lower_bound", "flags", *result.scores)
    return all(stored.get(key) == ours[key] for key in keys)


def _note_from(data: Mapping[str, Any]) -> Note:
    return Note(data["at"], data["text"], {k: v for k, v in data.items() if k not in _NOTE_KEYS})


def _event_from(data: Mapping[str, Any], questionnaire: Questionnaire, where: str) -> Event:
    kind = EventKind(data["event"])
    extra = {k: v for k, v in data.items() if k not in _event_keys(kind)}
    reason = data.get("reason")
    if kind not in _ITEM_KINDS:
        return Event(kind, data["at"], reason=reason, extra=extra)
    item = data["item"]

    def value(key: str) -> Answer | None:
        return _stored_answer(questionnaire, item, data[key], f"{where}.{key}")

    if kind is EventKind.ANSWERED:
        return Event(kind, data["at"], item, None, value("answer"), reason, extra)
    return Event(kind, data["at"], item, value("old"), value("new"), reason, extra)
