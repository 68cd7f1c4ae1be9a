"""The interview loop's seams (for counselor intake), its parts, and rich rendering."""

from __future__ import annotations

from io import StringIO

import pytest

from ketscreen.core.interview import Interview
from ketscreen.core.model import FlagLevel, Item, Questionnaire
from ketscreen.io.resources import load_resources
from ketscreen.ui.interview_screen import (
    AnswerEvent,
    ExtraKey,
    InterviewOptions,
    answer_label,
    parse_choice,
    run_interview,
)
from ketscreen.ui.terminal import InputEnded, Terminal, want_plain
from tests.conftest import full_answers_100 as full_answers
from tests.interview_helpers import output, run, terminal


@pytest.fixture
def questionnaire(questionnaire_100: Questionnaire) -> Questionnaire:
    """These transcripts and layouts were written for 1.0.0, which still ships and must
    keep working; 1.1.0's own screens are covered in tests/test_content_1_1.py."""
    return questionnaire_100


UK = load_resources()["UK"]


# -- the state machine's additions -------------------------------------------------------


def test_question_count_says_up_to_until_skip_logic_is_settled(
    questionnaire: Questionnaire,
) -> None:
    interview = Interview(questionnaire)
    assert interview.expected_total() == (30, False)
    interview.answer("yes")
    assert interview.expected_total() == (30, True)
    interview = Interview(questionnaire, {"use_12m": "no"})
    assert interview.expected_total() == (2, True)


def test_flags_are_known_mid_interview(questionnaire: Questionnaire) -> None:
    interview = Interview(questionnaire, {"use_12m": "no", "self_harm": "past_month"})
    assert [(f.id, f.level) for f in interview.flags()] == [
        ("self_harm_past_month", FlagLevel.CRISIS)
    ]
    assert interview.flags() == interview.result().flags
    assert Interview(questionnaire, {"self_harm": "declined"}).flags() == ()


# -- typed answers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item_id", "typed", "expected"),
    [
        ("use_12m", "1", "yes"),
        ("use_12m", " 3 ", "no"),
        ("use_12m", "No", "no"),
        ("use_12m", "prescribed_only", "prescribed_only"),
        ("use_12m", "0", None),
        ("use_12m", "4", None),
        ("use_12m", "1 2", None),
        ("use_12m", "maybe", None),
        ("craving", "y", "yes"),
        ("craving", "1", "no"),  # no is choice 1 on every yes/no question (#12)
        ("craving", "2", "yes"),
        ("craving", "n", "no"),
        ("craving", "No", "no"),
        ("abdominal_pain", "1", "no"),
        ("abdominal_pain", "no", "no"),
        ("routes", "3 1", ("snort", "inject")),
        ("routes", "1,3,3", ("snort", "inject")),
        ("routes", "1; 5", ("snort", "other")),
        ("routes", "1 6", None),
        ("routes", "snort|smoke", ("snort", "smoke")),
    ],
)
def test_parse_choice(
    questionnaire: Questionnaire, item_id: str, typed: str, expected: object
) -> None:
    assert parse_choice(questionnaire.items[item_id], typed) == expected


def test_answer_labels_are_the_words_the_person_saw(questionnaire: Questionnaire) -> None:
    routes = questionnaire.items["routes"]
    assert answer_label(routes, ("snort", "inject")) == "Snorted (sniffed) it, Injected it"
    assert answer_label(routes, "declined") == "Prefer not to say"


# -- plain mode --------------------------------------------------------------------------


class _Tty(StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("option", "env", "stdin_tty", "stdout_tty", "plain"),
    [
        (False, {"TERM": "xterm"}, True, True, False),
        (True, {"TERM": "xterm"}, True, True, True),
        (False, {"TERM": "xterm", "NO_COLOR": "1"}, True, True, True),
        (False, {"TERM": "xterm", "NO_COLOR": ""}, True, True, False),
        (False, {"TERM": "dumb"}, True, True, True),
        (False, {"TERM": "xterm"}, False, True, True),
        (False, {"TERM": "xterm"}, True, False, True),
    ],
)
def test_when_plain_mode_is_chosen(
    option: bool, env: dict[str, str], stdin_tty: bool, stdout_tty: bool, plain: bool
) -> None:
    stdin = _Tty() if stdin_tty else StringIO()
    stdout = _Tty() if stdout_tty else StringIO()
    assert want_plain(option, env, stdin, stdout) is plain


def test_a_terminal_does_not_echo_what_the_terminal_already_shows() -> None:
    console_out = StringIO()
    from ketscreen.ui.console import make_console

    term = Terminal(make_console(console_out, width=60, plain=True), _Tty("1\n"), plain=True)
    assert term.echo is False
    assert term.ask("Your answer:") == "1"
    assert console_out.getvalue() == "Your answer: "


# -- the seams counselor intake builds on -----------------------------------------------


def test_on_answer_is_called_after_every_answer_and_change(questionnaire: Questionnaire) -> None:
    events: list[AnswerEvent] = []
    saved: list[dict[str, object]] = []

    def save(interview: Interview, event: AnswerEvent) -> None:
        events.append(event)
        saved.append(dict(interview.answers))

    # yes, weekly, back twice, no, Enter (no answer yet), no; on the review: change
    # answer 2 to "past month", Enter after the crisis panel, Enter for the result
    term = terminal(["1", "4", "b", "b", "3", "", "1", "2", "2", "", ""])
    options = InterviewOptions(on_answer=save)
    assert run_interview(term, Interview(questionnaire), UK, options) is True
    assert [(e.item, e.kind, e.value, e.previous, e.dropped) for e in events] == [
        ("use_12m", "answered", "yes", None, ()),
        ("freq_3m", "answered", "weekly", None, ()),
        ("use_12m", "changed", "no", "yes", ("freq_3m",)),
        ("self_harm", "answered", "no", None, ()),
        # on the review: change answer 2 (self_harm) to "past month"
        ("self_harm", "changed", "past_month", "no", ()),
    ]
    # the hook sees the answers as they are after each step (what a session would save)
    assert saved[2] == {"use_12m": "no"}
    assert saved[-1] == {"use_12m": "no", "self_harm": "past_month"}
    # a change on the review screen brings up the crisis panel too, before going on
    assert output(term).count("Support is available now") == 1


def test_extra_key_for_a_note_on_the_current_question(questionnaire: Questionnaire) -> None:
    notes: dict[str, str] = {}

    def add_note(term: Terminal, interview: Interview, item: Item) -> None:
        notes[item.id] = term.ask("Note:")

    term = terminal(["a", "client unsure about dates", "1", "note", "second", "q"])
    options = InterviewOptions(
        prompt="Client's answer:",
        extra_keys=(ExtraKey("a", "add a note", add_note, word="note"),),
    )
    assert run_interview(term, Interview(questionnaire), UK, options) is False
    assert notes == {"use_12m": "client unsure about dates", "freq_3m": "second"}
    out = output(term)
    assert "Other keys: a add a note, ? help, q quit." in out
    assert "Client's answer: a\nNote: client unsure about dates\nClient's answer: 1\n" in out
    # stopping is reported to the caller, which decides what to say
    assert "Nothing was saved" not in out


@pytest.mark.parametrize("key", ["b", "q", "1", "", "ab", "y", "n"])
def test_extra_keys_cannot_shadow_the_standard_keys(key: str) -> None:
    with pytest.raises(ValueError, match="one character"):
        ExtraKey(key, "x", lambda term, interview, item: None)


def test_resume_starts_at_the_first_unanswered_question(questionnaire: Questionnaire) -> None:
    answers = full_answers()
    del answers["readiness"]
    interview = Interview(questionnaire, answers)
    term = terminal(["4", ""])
    assert run_interview(term, interview, UK) is True
    out = output(term)
    assert out.startswith("\nLooking ahead. Question 30 of 30.\n")
    assert interview.answer_of("readiness") == "already_trying"


def test_resume_a_finished_interview_opens_the_review(questionnaire: Questionnaire) -> None:
    term = terminal([""])
    assert run_interview(term, Interview(questionnaire, full_answers()), UK) is True
    assert output(term).startswith("\nCheck your answers\n")


def test_end_of_input_and_ctrl_c_propagate_to_the_caller(questionnaire: Questionnaire) -> None:
    with pytest.raises(InputEnded):
        run_interview(terminal([]), Interview(questionnaire), UK)

    class Interrupting(StringIO):
        def readline(self, size: int | None = -1) -> str:
            raise KeyboardInterrupt

    term = terminal([])
    term.stream = Interrupting()
    with pytest.raises(KeyboardInterrupt):
        run_interview(term, Interview(questionnaire), UK)


def test_review_screen_keys(questionnaire: Questionnaire) -> None:
    term = terminal(["?", "x", "31", "b", "", "q"])
    assert run_interview(term, Interview(questionnaire, full_answers()), UK) is False
    out = output(term)
    assert "Your choice: ?\nHelp\n- a number, then Enter: change that answer" in out
    assert (
        'Your choice: x\n"x" is not a choice here. Type a number from 1 to 30, or press '
        "Enter; or b\n(back), ? (help), q (quit).\n"
    ) in out
    assert 'Your choice: 31\n"31" is not a choice here.' in out
    # b goes back to the last question; Enter keeps its answer and returns to the review
    assert "Your choice: b\n\nLooking ahead. Question 30 of 30.\n" in out
    assert out.count("Check your answers") == 2


# -- rich rendering at 60, 100 and 120 columns -------------------------------------------


def _rich_lines(out: str) -> list[str]:
    return out.splitlines()


@pytest.mark.parametrize("width", [60, 100, 120])
def test_rich_question_screen_holds_its_layout(questionnaire: Questionnaire, width: int) -> None:
    screen = run(questionnaire, ["", "1", "q"], width=width, plain=False)
    lines = _rich_lines(screen.out)
    assert all(len(line) <= width for line in lines)
    welcome = lines[1 : lines.index(next(x for x in lines if x.startswith("╰")))]
    assert welcome[0].startswith("╭─ Ketamine use self-check ")
    assert all(line.startswith("│ ") and line.endswith(" │") for line in welcome[1:])
    header = next(line for line in lines if line.startswith("Your use of ketamine"))
    assert header.endswith("Question 1 of up to 30") and len(header) == width
    second = next(line for line in lines if line.endswith("Question 2 of 30"))
    bar = lines[lines.index(second) + 1]
    # after one answer of 30 the bar is 1/30 full, drawn across the whole width
    assert len(bar) == width and bar.count("━") == round(width / 30)
    assert "1 Yes" in screen.out and "2 Only as prescribed by a doctor" in screen.out
    footer = "Need to talk to someone now? Samaritans: Call 116 123 (24/7, free)"
    # welcome, question 1, question 2, and the last words after q
    assert " ".join(screen.out.split()).count(footer) == 4


@pytest.mark.parametrize("width", [60, 100, 120])
def test_rich_crisis_panel_during_the_interview(questionnaire: Questionnaire, width: int) -> None:
    screen = run(questionnaire, ["", "3", "3", "q"], width=width, plain=False)
    lines = _rich_lines(screen.out)
    assert all(len(line) <= width for line in lines)
    top = next(i for i, line in enumerate(lines) if "Support is available now" in line)
    assert lines[top].startswith("╭─ Support is available now")
    assert lines[top + 1] == "│ If you are in danger now, call 999.".ljust(width - 1) + "│"


def test_a_closed_or_odd_stream_is_not_a_terminal() -> None:
    closed = StringIO()
    closed.close()
    assert want_plain(False, {"TERM": "xterm"}, closed, _Tty()) is True
