"""A battery intake: several instruments with one client in one sitting.

`ketscreen intake --client C --instrument A --instrument B` asks the
instruments in order as one interview (`core.battery.combine`): one welcome, one run of
questions, one review of every answer, one result screen with each instrument's result,
and one prompt for the next steps. Alerts and the safety protocol apply across the
battery: a crisis answer in any instrument brings the crisis panel at once, the
counselor's panel and the safety note, and the result screen shows the instrument with
the most urgent alert first.

Each instrument is saved in its own session file, in the unchanged session format, so
every other command (`report`, `sessions`, FHIR, batch scoring, a client's history)
reads it as any session, with exactly the questionnaire it was asked with. The files
are linked by a top-level `battery` field: `{"id": <the first session's id>,
"sessions": [ids, in order], "instruments": ["A 1.1.0", "B 1.0.0"]}`. Every
answer is saved to its instrument's file at once; notes go with the question's file,
general notes with the first, and the next steps with every one (each file's take-home
sheet has them). Resuming any of the files goes on with the whole battery.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from rich.text import Text

from ketscreen.core.battery import combine, owner
from ketscreen.core.interview import Interview
from ketscreen.core.model import Item, Questionnaire
from ketscreen.io.sessions import BATTERY_FIELD, Session, SessionError, Status
from ketscreen.ui.blocks import Bullet
from ketscreen.ui.intake import (
    READ_TO_CLIENT,
    IntakeFlow,
    report_command,
    resume_command,
)
from ketscreen.ui.interview_screen import AnswerEvent, run_interview
from ketscreen.ui.paging import Part
from ketscreen.ui.result_view import result_parts
from ketscreen.ui.safety import crisis_level
from ketscreen.ui.screener import show_result
from ketscreen.ui.terminal import Terminal


def battery_link(session: Session) -> dict[str, object] | None:
    """The `battery` field of a session file, when it is part of a battery."""
    link = session.extra.get(BATTERY_FIELD)
    return link if isinstance(link, dict) else None


@dataclass
class BatteryFlow(IntakeFlow):
    parts: tuple[Questionnaire, ...] = ()
    sessions: list[Session] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.parts:
            self.questionnaire = combine(self.parts)

    # -- the ways in -------------------------------------------------------------------

    def start(self, client: str, counselor: str | None) -> bool:
        if not self.parts:
            return super().start(client, counselor)
        about = (
            Bullet(f"This intake asks {len(self.parts)} questionnaires in turn: {self._names()}."),
        )
        if not self._welcomed(client, counselor, about):
            return False
        self.interview = Interview(self.questionnaire)
        at = self.clock()
        self.sessions = [
            self.store.create(q, client, counselor, at=at, region=self.region.code)
            for q in self.parts
        ]
        link = {
            "id": self.sessions[0].id,
            "sessions": [s.id for s in self.sessions],
            "instruments": [f"{q.id} {q.version}" for q in self.parts],
        }
        for session in self.sessions:
            session.extra[BATTERY_FIELD] = link
            self.store.save(session)
        self.session = self.sessions[0]
        ids = ", ".join(s.id for s in self.sessions)
        self._say(f"Sessions {ids} started (one per questionnaire); saved in {self.store.folder}.")
        return self._interview()

    def _resume(self, session: Session) -> bool:
        if battery_link(session) is None:
            return super()._resume(session)
        return self._resume_battery(session)

    def _resume_battery(self, found: Session) -> bool:
        """Go on with the battery `found` belongs to: every part, as one interview."""
        link = battery_link(found)
        assert link is not None
        listed = link.get("sessions")
        ids = [str(i) for i in listed] if isinstance(listed, list) else [found.id]
        if found.id not in ids:
            ids = [found.id]  # a link that does not list its own file: nothing to join
        sessions = [found if i == found.id else self.store.load(i, allow_path=False) for i in ids]
        for session in sessions:  # a file edited by hand must not pull in another record
            if battery_link(session) != link or session.client != found.client:
                raise SessionError(
                    f"session {session.id} does not belong to the battery of session "
                    f"{found.id} (its battery field or client differs); the files were left "
                    "unchanged"
                )
        finished = [s for s in sessions if s.status in (Status.COMPLETED, Status.AMENDED)]
        if finished:
            raise SessionError(
                f"session {finished[0].id} of this battery is {finished[0].status.value}; "
                "to change answers, open each session with --amend ID --reason TEXT"
            )
        self.sessions = sessions
        self.parts = tuple(s.questionnaire for s in sessions)
        self.questionnaire = combine(self.parts)
        self.session = sessions[0]
        self._use_session_region(sessions[0])
        answers = {k: v for s in sessions for k, v in s.answers.items()}
        interview = Interview(self.questionnaire, answers)
        self._crisis_reminder(self._safety_session(), interview)
        about = (Bullet(f"A battery of {len(sessions)} questionnaires: {self._names()}."),)
        if not self._resume_welcome(sessions[0], interview, f"sessions {', '.join(ids)}", about):
            return False
        for session in sessions:
            session.resume(at=self.clock())
            self.store.save(session)
        self.interview = interview
        return self._interview()

    def _names(self) -> str:
        return ", then ".join(q.title for q in self.parts)

    # -- the interview -----------------------------------------------------------------

    def _owner(self, item_id: str) -> Session:
        return self.sessions[owner(self.parts, item_id)]

    def _safety_session(self) -> Session:
        """The part whose questions can raise a crisis (its safety notes)."""
        for session, q in zip(self.sessions, self.parts, strict=True):
            if q.safety_items:
                return session
        return self.sessions[0]

    def _save_all(self, interview: Interview) -> None:
        for session in self.sessions:
            if session.status is Status.IN_PROGRESS:
                session.record_answers(interview.answers, at=self.clock())
            self.store.save(session)

    def _note_mark(self, item_id: str) -> str | None:
        if not self.sessions:
            return super()._note_mark(item_id)
        self.session = self._owner(item_id)
        try:
            return super()._note_mark(item_id)
        finally:
            self.session = self.sessions[0]

    def _note(self, term: Terminal, interview: Interview, item: Item) -> None:
        if not self.sessions:
            super()._note(term, interview, item)
            return
        self.session = self._owner(item.id)
        try:
            super()._note(term, interview, item)
        finally:
            self.session = self.sessions[0]

    def _safety_protocol(self, session: Session, interview: Interview, event: AnswerEvent) -> None:
        owning = self._owner(event.item) if self.sessions else session
        super()._safety_protocol(owning, interview, event)

    def _interview(self) -> bool:
        if not self.sessions:  # one instrument: the intake as always
            return super()._interview()
        interview = self.interview
        assert interview is not None

        def record(interview: Interview, event: AnswerEvent) -> None:
            self._save_all(interview)
            self._safety_protocol(self.sessions[0], interview, event)

        if not run_interview(self.term, interview, self.region, self._options(record)):
            for session in self.sessions:
                session.record_answers(interview.answers, at=self.clock())
                session.stop(at=self.clock())
                self.store.save(session)
            self._leaving(interview)
            self._say(
                f"Stopped. The battery is saved as stopped, with {len(interview.answers)} "
                f"answers. To go on with it later: {resume_command(self.sessions[0].id)}"
            )
            return False
        self._general_notes(self.sessions[0])
        for session in self.sessions:
            session.complete(at=self.clock())
            self.store.save(session)
        self._show_results()
        self._next_steps(self.sessions[0])
        steps = self.sessions[0].next_steps
        if steps is not None:
            for session in self.sessions[1:]:
                session.set_next_steps(steps.text, at=steps.at)
                self.store.save(session)
        for session in self.sessions:
            self._say(f"{session.questionnaire.title}: session {session.id} completed and saved.")
        self._say(f"Reports: {report_command(self.sessions[0].id)} (and each id above).")
        return True

    def save_interrupted(self) -> Session | None:
        if not self.sessions:
            return super().save_interrupted()
        interview = self.interview
        assert interview is not None
        for session in self.sessions:
            if session.status is Status.IN_PROGRESS:
                session.record_answers(interview.answers, at=self.clock())
                session.interrupt(at=self.clock())
            self.store.save(session)
        self._leaving(interview)
        return self.sessions[0]

    def _show_results(self) -> None:
        """Each instrument's result, the one with the most urgent alert first."""
        scored = [(s, s.result()) for s in self.sessions]
        done = [(s, r) for s, r in scored if r is not None]

        def urgency(pair: tuple[Session, object]) -> int:
            result = pair[1]
            levels = [f.level.rank for f in result.flags]  # type: ignore[attr-defined]
            return min(levels) if levels else 99

        done.sort(key=urgency)  # stable: the battery's order among equals
        self.term.new_screen()
        parts: list[Part] = []
        if any(crisis_level(r.flags) is not None for _, r in done):
            parts.append(Part(Text(READ_TO_CLIENT, style="heading"), lead=True))
        for index, (session, result) in enumerate(done):
            heading = Text(f"{index + 1} of {len(done)}: {session.questionnaire.title}")
            heading.stylize("heading")
            shown = [Part(heading, lead=index == 0)]
            last = index == len(done) - 1  # the services and disclaimer once, at the end
            shown += result_parts(
                session.questionnaire,
                result,
                self.region,
                plain=self.term.plain,
                with_footer=False,
                with_help=last,
            )
            if index > 0:  # the first page keeps the first (most urgent) result together
                shown = [replace(p, lead=False) for p in shown]
            parts += shown
        show_result(self.term, parts, self.region)
