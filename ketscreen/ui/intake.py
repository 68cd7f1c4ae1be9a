"""Counselor intake: the screener's screens, framed for an interviewer, saved as it goes.

`IntakeFlow` runs the same interview loop as the self-check (`run_interview`) with the
intake's seams: the prompt says whose answer it is, `a` (or the word `note`) adds a note
to the question on screen, and every answer, change and note is saved at once
(atomically) to the session file. `start`, `resume` and `amend` each return True when
the interview reached its end (the review screen was confirmed) and False when the
counselor typed `q`.

Ctrl-C and end of input propagate to the caller, which calls `save_interrupted()`: the
answers given so far are saved as `in-progress`, so `ketscreen intake --resume ID`
continues at the first unanswered question.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rich.text import Text

from ketscreen.core.interview import Interview
from ketscreen.core.model import Item, Questionnaire
from ketscreen.core.pseudonym import personal_looking
from ketscreen.core.scoring import utc_now
from ketscreen.io.resources import Region, RegionChoice
from ketscreen.io.session_store import SessionStore
from ketscreen.io.sessions import (
    MAX_NOTE,
    Session,
    SessionError,
    Status,
    check_reason,
    typed_note_parts,
)
from ketscreen.ui.blocks import Bullet, Line, render_block
from ketscreen.ui.interview_screen import (
    AnswerEvent,
    ExtraKey,
    InterviewOptions,
    Welcome,
    run_interview,
    show_welcome,
)
from ketscreen.ui.paging import Part
from ketscreen.ui.reports.content import when
from ketscreen.ui.result_view import result_parts
from ketscreen.ui.safety import (
    counselor_block,
    crisis_block,
    crisis_level,
    footer,
    reported,
)
from ketscreen.ui.screener import show_result
from ketscreen.ui.terminal import InputEnded, Terminal

PROMPT = "Client's answer:"
_LIMITS = (
    "what stays private, who can read this record, and when you would have to share "
    "information (for example, if someone is at risk of serious harm)"
)
CONFIDENTIALITY = (
    f"Before you start, explain the limits of confidentiality to the client: {_LIMITS}."
)
CONFIDENTIALITY_AGAIN = (
    f"If this is a new meeting, explain the limits of confidentiality to the client again: "
    f"{_LIMITS}."
)
NOTE_KEY = "a"
KEYS = (
    "Read each question to the client and type their answer: a number, then Enter "
    f"(y or n on yes-or-no questions). {NOTE_KEY} adds a note to the question, b goes back, "
    "s is prefer not to say, ? is help, q stops."
)
NOT_A_DIAGNOSIS = (
    "Tell the client: this is a screening tool, not a diagnosis, and they can stop at any "
    "point if they feel distressed (type q to stop)."
)
READ_TO_CLIENT = "For the client: read this to them, or show them the screen."
QUIT_HELP = "stop the intake; the session is saved as stopped, to go on with later"
REVIEW_INTRO = "Every answer the client gave. Read them back if the client wants."


def who_line(session: Session) -> str:
    """ "Client: C-0042. Counselor: Sam." for the resume and amend screens."""
    who = f"Client: {session.client}."
    return who + (f" Counselor: {session.counselor}." if session.counselor else "")


def resume_command(session_id: str) -> str:
    return f"ketscreen intake --resume {session_id}"


def continue_command(session: Session) -> str:
    """How to go on with a session that was interrupted."""
    if session.status in (Status.COMPLETED, Status.AMENDED):
        return f"ketscreen intake --amend {session.id} --reason TEXT"
    return resume_command(session.id)


def report_command(session_id: str) -> str:
    return f"ketscreen report {session_id} -o FILE"


@dataclass
class IntakeFlow:
    term: Terminal
    store: SessionStore
    questionnaire: Questionnaire
    region: Region
    choice: RegionChoice
    clock: Callable[[], str] = utc_now
    session: Session | None = None
    interview: Interview | None = None
    given: Questionnaire | None = None
    """A questionnaire file the counselor named; sessions otherwise open with their own."""
    regions: Mapping[str, Region] | None = None
    """All regions: a resumed or amended session shows its own region's help, unless
    --region chose one."""

    # -- the three ways in -----------------------------------------------------------

    def start(self, client: str, counselor: str | None) -> bool:
        """A new session; it is written as soon as the counselor presses Enter to start."""
        if not self._welcomed(client, counselor):
            return False
        self.interview = Interview(self.questionnaire)
        session = self.store.create(
            self.questionnaire, client, counselor, at=self.clock(), region=self.region.code
        )
        self.session = session
        self._say(f"Session {session.id} started; saved in {self.store.folder}.")
        return self._interview()

    def _welcomed(self, client: str, counselor: str | None, about: tuple[Line, ...] = ()) -> bool:
        """The client id check and the welcome screen; False (nothing saved) to stop."""
        if not self._client_id_confirmed(client):
            self.term.print(
                Text(
                    "Nothing was saved. Start again with --client and a pseudonym or case "
                    "number, such as C-0042.",
                    style="heading",
                )
            )
            return False
        lines: list[Line] = [
            Bullet(CONFIDENTIALITY),
            Bullet(f"Client: {client}." + (f" Counselor: {counselor}." if counselor else "")),
            *about,
            Bullet(KEYS),
            Bullet(
                "The session is saved after every answer. If you are interrupted, it can be "
                "resumed where it stopped."
            ),
            Bullet(NOT_A_DIAGNOSIS),
            "",
        ]
        welcome = Welcome(f"{self.questionnaire.title}: counselor intake", tuple(lines))
        if not show_welcome(self.term, welcome, self.region, self.choice):
            self.term.print(Text("Stopped before starting. Nothing was saved.", style="heading"))
            self.term.print(footer(self.region, plain=self.term.plain))
            return False
        return True

    def _client_id_confirmed(self, client: str) -> bool:
        """A client id that looks like a name, an email or a phone number: say so, ask."""
        looks = personal_looking(client)
        if looks is None:
            return True
        self.term.print()
        self.term.print(
            Text(
                f'The client id "{client}" looks like {looks}. It is written into the '
                "session file and every report, so use a pseudonym or a case number "
                "instead (such as C-0042), not a name, email or phone number.",
                style="heading",
            )
        )
        answer = self.term.ask("Type y to use it anyway, or press Enter to stop:")
        return answer.strip().lower() in ("y", "yes")

    def _use_session_region(self, session: Session) -> None:
        """The region the session recorded, unless --region was given."""
        if self.choice.how == "option" or self.regions is None or session.region is None:
            return
        region = self.regions.get(session.region)
        if region is not None:
            self.region = region
            self.choice = RegionChoice(region.code, "session")

    def resume(self, ref: str) -> bool:
        return self._resume(self.store.load(ref, self.given, allow_path=False))

    def _resume(self, session: Session) -> bool:
        self.questionnaire = session.questionnaire
        self._use_session_region(session)
        session.resume(at=self.clock())
        interview = session.interview()
        self._crisis_reminder(session, interview)
        if not self._resume_welcome(session, interview, f"session {session.id}"):
            return False
        self.interview = interview
        self.session = session
        self.store.save(session)
        return self._interview()

    def _resume_welcome(
        self, lead: Session, interview: Interview, what: str, about: tuple[Line, ...] = ()
    ) -> bool:
        """The screen before going on with `what` (a session, or a battery's sessions)."""
        answered, asked = len(interview.answers), len(interview.questions())
        lines: list[Line] = [
            Bullet(f"{who_line(lead)} Started {when(lead.started)}."),
            *about,
            Bullet(f"{answered} of {asked} questions answered so far; going on from there."),
            Bullet(CONFIDENTIALITY_AGAIN),
            Bullet(KEYS),
            Bullet(NOT_A_DIAGNOSIS),
            "",
        ]
        welcome = Welcome(
            f"{self.questionnaire.title}: resuming {what}",
            tuple(lines),
            start="Press Enter to go on, or type q to leave it as it is:",
        )
        if not show_welcome(self.term, welcome, self.region, self.choice):
            self.term.print(Text("Left as it was.", style="heading"))
            return False
        return True

    def amend(self, ref: str, reason: str) -> bool:
        """Change answers of a completed session; each change is saved with the reason."""
        session = self.store.load(ref, self.given, allow_path=False)
        self.questionnaire = session.questionnaire
        if session.status not in (Status.COMPLETED, Status.AMENDED):
            raise SessionError(
                f"session {session.id} is {session.status.value}; only a completed session "
                f"can be amended (to go on with it: {resume_command(session.id)})"
            )
        reason = check_reason(reason)
        self._use_session_region(session)
        self._crisis_reminder(session, session.interview())
        lines: list[Line] = [
            Bullet(f"{who_line(session)} Completed {when(session.completed_at or '')}."),
            Bullet(f'Every change is recorded with the time and the reason: "{reason}".'),
            Bullet(
                "The next screen lists every answer: type its number to change it, then "
                "press Enter when you are done. Changes are saved one by one."
            ),
            "",
        ]
        welcome = Welcome(
            f"{self.questionnaire.title}: amending session {session.id}",
            tuple(lines),
            start="Press Enter to see the answers, or type q to leave them as they are:",
        )
        if not show_welcome(self.term, welcome, self.region, self.choice):
            self.term.print(Text("Left as it was.", style="heading"))
            return False
        interview = self.interview = session.interview()
        self.session = session
        before = len(session.events)

        def record(interview: Interview, event: AnswerEvent) -> None:
            session.amend(event.item, event.value, reason, at=self.clock())
            self.store.save(session)
            self._safety_protocol(session, interview, event)

        finished = run_interview(self.term, interview, self.region, self._options(record))
        changes = len(session.events) - before
        if changes == 0:
            self._say(f"No answer was changed; session {session.id} is as it was.")
            return finished
        if finished:
            self._show_result(session)
        self._say(
            f"Session {session.id} amended: {changes} change{'s' if changes != 1 else ''} "
            f"saved with the reason. Report: {report_command(session.id)}"
        )
        return finished

    # -- when things stop early ------------------------------------------------------

    def save_interrupted(self) -> Session | None:
        """After Ctrl-C or end of input: save what was answered; None if nothing started."""
        session, interview = self.session, self.interview
        if session is None:
            return None
        assert interview is not None  # set before the session, always
        if session.status is Status.IN_PROGRESS:
            session.record_answers(interview.answers, at=self.clock())
            session.interrupt(at=self.clock())
        self.store.save(session)
        self._leaving(interview)
        return session

    # -- internals -------------------------------------------------------------------

    def _options(self, record: Callable[[Interview, AnswerEvent], None]) -> InterviewOptions:
        return InterviewOptions(
            prompt=PROMPT,
            on_answer=record,
            extra_keys=(ExtraKey(NOTE_KEY, "add a note", self._note, word="note"),),
            quit_help=QUIT_HELP,
            mark=self._note_mark,
            review_title="Check the client's answers",
            review_intro=REVIEW_INTRO,
            crisis_label=READ_TO_CLIENT,
        )

    def _note_mark(self, item_id: str) -> str | None:
        """ "note" (or "2 notes") beside an answer on the review screen."""
        session = self.session
        count = len(session.item_notes.get(item_id, ())) if session else 0
        return None if not count else ("note" if count == 1 else f"{count} notes")

    def _interview(self) -> bool:
        session, interview = self.session, self.interview
        assert session is not None and interview is not None

        def record(interview: Interview, event: AnswerEvent) -> None:
            session.record_answers(interview.answers, at=self.clock())
            self.store.save(session)
            self._safety_protocol(session, interview, event)

        if not run_interview(self.term, interview, self.region, self._options(record)):
            session.record_answers(interview.answers, at=self.clock())
            session.stop(at=self.clock())
            self.store.save(session)
            self._leaving(interview)
            self._say(
                f"Stopped. Session {session.id} is saved as stopped, with "
                f"{len(session.answers)} answers. To go on with it later: "
                f"{resume_command(session.id)}"
            )
            return False
        self._general_notes(session)
        session.complete(at=self.clock())
        self.store.save(session)
        self._show_result(session)
        self._next_steps(session)
        self._say(f"Session {session.id} completed and saved. Report: {report_command(session.id)}")
        return True

    def _next_steps(self, session: Session) -> None:
        """After the result: what the client chose to do next, for their take-home sheet
        (`ketscreen report ID --handout`). Saved at once; Enter alone leaves it out."""
        self.term.print()
        self.term.print(
            Text(
                "Next steps agreed: write what the client chose to do next, in their words. "
                "It is printed on their take-home sheet.",
                style="heading",
            )
        )
        try:
            text = self.term.ask("Next steps (Enter alone to leave out):")
        except InputEnded:  # the session is complete and saved; nothing is lost
            return
        pieces = typed_note_parts(text)
        if not pieces:
            self.term.print("No next steps written.")
            return
        session.set_next_steps(pieces[0], at=self.clock())
        self.store.save(session)
        cut = f" (cut to its first {MAX_NOTE} characters)" if len(pieces) > 1 else ""
        self.term.print(Text(f"Next steps saved{cut}.", style="heading"))

    def _safety_protocol(self, session: Session, interview: Interview, event: AnswerEvent) -> None:
        """After the client's crisis panel: the counselor's panel, then the safety note.

        The note may be left empty, which is recorded as such; it is saved at once.
        """
        flags = [f for f in interview.flags() if f.item == event.item]
        level = crisis_level(flags)
        if level is None or not isinstance(event.value, str):
            return
        what = reported(interview.questionnaire, flags)
        self.term.print(render_block(counselor_block(level, what), plain=self.term.plain))
        text = self.term.ask(
            "Safety note: what you did and agreed (press Enter alone to leave it empty):"
        )
        note = session.add_safety_note(event.item, event.value, level.value, text, at=self.clock())
        self.store.save(session)
        saved = "Safety note saved." if note.text else "Recorded: safety note left empty."
        self.term.print(Text(saved, style="heading"))

    def _note(self, term: Terminal, interview: Interview, item: Item) -> None:
        session = self.session
        assert session is not None
        pieces = typed_note_parts(term.ask("Note on this question (press Enter alone to cancel):"))
        if not pieces:
            term.print("No note added.")
            return
        parts = self._add_note(session, pieces, item.id)
        term.print(Text(f"Note saved with this question ({item.short}){parts}.", style="heading"))

    def _add_note(self, session: Session, pieces: list[str], item: str | None) -> str:
        """Store a note (already cleaned into parts by `typed_note_parts`) and save."""
        for piece in pieces:
            session.add_note(piece, item, at=self.clock())
        self.store.save(session)
        return f", in {len(pieces)} parts" if len(pieces) > 1 else ""

    def _general_notes(self, session: Session) -> None:
        self.term.new_screen()
        self.term.print(Text("General notes", style="heading"))
        self.term.print(
            "Anything else to record about this session, one note at a time. "
            "Press Enter on an empty line when you are done."
        )
        self.term.print(footer(self.region, plain=self.term.plain))
        while True:
            pieces = typed_note_parts(self.term.ask("General note (Enter alone to finish):"))
            if not pieces:
                return
            parts = self._add_note(session, pieces, None)
            self.term.print(f"Note saved{parts}.")

    def _show_result(self, session: Session) -> None:
        result = session.result()
        assert result is not None  # a finished interview has at least one answer
        self.term.new_screen()
        parts = result_parts(
            self.questionnaire, result, self.region, plain=self.term.plain, with_footer=False
        )
        if crisis_level(result.flags) is not None:  # the panel first: say who it is for
            parts.insert(0, Part(Text(READ_TO_CLIENT, style="heading"), lead=True))
        show_result(self.term, parts, self.region)

    def _leaving(self, interview: Interview) -> None:
        """When stopping early: the crisis panel again if it was raised; the crisis line."""
        level = crisis_level(interview.flags())
        if level is not None:
            self.term.print(
                render_block(
                    crisis_block(level, self.region, interview.questionnaire), plain=self.term.plain
                )
            )
        self.term.print(footer(self.region, plain=self.term.plain))

    def _crisis_reminder(self, session: Session, interview: Interview) -> None:
        """Resuming or amending a session whose client reported a crisis: say so first,
        with the counselor's protocol and the safety notes recorded so far."""
        flags = interview.flags()
        level = crisis_level(flags)
        if level is None:
            return
        what = reported(interview.questionnaire, flags)
        self.term.print(
            Text(
                f"Earlier in this session the client reported {what}. " + READ_TO_CLIENT,
                style="heading",
            )
        )
        self.term.print(
            render_block(
                crisis_block(level, self.region, interview.questionnaire), plain=self.term.plain
            )
        )
        self.term.print(render_block(counselor_block(level, what), plain=self.term.plain))
        if not session.safety_notes:
            self.term.print(Text("No safety note was recorded.", style="heading"))
        for note in session.safety_notes:
            said = note.text or "(left empty)"
            self.term.print(Text(f"Safety note, {when(note.at)}: {said}"))

    def _say(self, message: str) -> None:
        self.term.print()
        self.term.print(Text(message, style="heading"))
