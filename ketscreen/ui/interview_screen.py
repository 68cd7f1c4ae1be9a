"""The interview loop: one question per screen, a review screen, the crisis panel at once.

It drives `core.interview.Interview` (the one state machine) through a `Terminal`
(console and input passed in, never globals). The person-at-a-terminal screener and the
counselor intake both use it; the intake plugs in through `InterviewOptions`:

- `on_answer` is called after every answer or change (to save a session);
- `extra_keys` add keys to question screens (for example a note on the question);
- `prompt` frames who answers ("Your answer:" or "Client's answer:");
- `run_interview` starts from any `Interview`, so a session can be resumed;
- nothing here prints "nothing was saved": quitting returns False and the caller says
  what happened; Ctrl-C (KeyboardInterrupt) and end of input (`InputEnded`) propagate.

Keys: a number answers (several numbers, like `1 3`, for choose-all questions), Enter
keeps an earlier answer, `b` goes back, `s` is "prefer not to say" (where allowed), `?`
shows help, `q` stops.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from rich.table import Table
from rich.text import Text

from ketscreen.core.conditions import Answer
from ketscreen.core.interview import Interview
from ketscreen.core.model import DECLINED, FlagLevel, Item, ItemType
from ketscreen.core.normalize import normalize_answer
from ketscreen.errors import AnswerError
from ketscreen.io.resources import REGIONS, Region, RegionChoice
from ketscreen.ui.blocks import Block, Bullet, Line, render_block
from ketscreen.ui.resources_view import HOW
from ketscreen.ui.safety import crisis_block, crisis_level, footer
from ketscreen.ui.terminal import Terminal

RESERVED_KEYS = frozenset({"b", "s", "?", "q"})
_SEPARATORS = re.compile(r"[\s,;]+")
_MAX_ECHO = 20


@dataclass(frozen=True)
class AnswerEvent:
    """What one answer did: `kind` is "answered" (first answer) or "changed"."""

    item: str
    kind: str
    value: Answer
    previous: Answer | None
    dropped: tuple[str, ...]


AnswerHook = Callable[[Interview, AnswerEvent], None]


@dataclass(frozen=True)
class ExtraKey:
    """A key added to every question screen, e.g. `n` to add a note to the question."""

    key: str
    label: str
    action: Callable[[Terminal, Interview, Item], None]

    def __post_init__(self) -> None:
        if len(self.key) != 1 or self.key.isdigit() or self.key in RESERVED_KEYS:
            raise ValueError(
                f"extra key {self.key!r} must be one character, not a digit or b/s/?/q"
            )


@dataclass(frozen=True)
class InterviewOptions:
    prompt: str = "Your answer:"
    on_answer: AnswerHook | None = None
    extra_keys: tuple[ExtraKey, ...] = ()


@dataclass(frozen=True)
class Welcome:
    """The first screen: what this is, how long, privacy, that one can stop."""

    title: str
    lines: tuple[Line, ...]
    start: str = "Press Enter to start, or type q to stop:"


class _Step(Enum):
    NEXT = "next"  # show whatever the interview's cursor points at now
    QUIT = "quit"
    DONE = "done"


def parse_choice(item: Item, text: str) -> Answer | None:
    """Typed text -> an answer for `item`, or None when it is not a valid answer.

    Numbers pick choices (several, separated by spaces or commas, for multi-select);
    a code or accepted spelling ("yes", "y", "daily") also works, via the one normaliser.
    """
    text = text.strip()
    parts = [part for part in _SEPARATORS.split(text) if part]
    if parts and all(part.isdigit() for part in parts):
        numbers = sorted({int(part) for part in parts})
        if any(not 1 <= n <= len(item.choices) for n in numbers):
            return None
        if item.type is not ItemType.MULTI:
            return item.choices[numbers[0] - 1].code if len(numbers) == 1 else None
        return tuple(item.choices[n - 1].code for n in numbers)
    try:
        return normalize_answer(item, text)
    except AnswerError:
        return None


def answer_label(item: Item, answer: Answer) -> str:
    """An answer in the words the person saw."""
    if answer == DECLINED:
        return "Prefer not to say"
    codes = answer if isinstance(answer, tuple) else (answer,)
    return ", ".join(item.labels[code] for code in codes)


def _join_or(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def show_welcome(term: Terminal, welcome: Welcome, region: Region, choice: RegionChoice) -> bool:
    """The welcome screen; False when the person types q.

    It does not clear the screen, so that a warning printed before it stays in view.
    """
    term.print()
    region_line = Text.assemble(
        ("Help shown for: ", "heading"),
        f"{region.name} ({HOW[choice.how]}). To change it, start again with --region "
        f"{_join_or(list(REGIONS))}.",
    )
    block = Block(welcome.title, (*welcome.lines, region_line), boxed=True)
    term.print(render_block(block, plain=term.plain))
    term.print(footer(region, plain=term.plain))
    while True:
        key = term.ask(welcome.start).strip().lower()
        if key == "q":
            return False
        if key == "":
            return True
        term.print("Press Enter to start, or type q to stop.")


def run_interview(
    term: Terminal,
    interview: Interview,
    region: Region,
    options: InterviewOptions | None = None,
) -> bool:
    """Ask every question, then the review screen. True when confirmed, False on `q`."""
    return _Loop(term, interview, region, options or InterviewOptions()).run()


class _Loop:
    def __init__(
        self, term: Terminal, interview: Interview, region: Region, options: InterviewOptions
    ) -> None:
        self.term = term
        self.interview = interview
        self.region = region
        self.options = options
        self.questionnaire = interview.questionnaire
        self.notice: str | None = None
        # Once the review screen has been reached, an answer leads to the next question
        # still open (questions a change opened up), else straight back to the review.
        self.reviewed = interview.finished

    def run(self) -> bool:
        while True:
            item = self.interview.current
            step = self._review() if item is None else self._question(item, changing=False)
            if step is _Step.QUIT:
                return False
            if step is _Step.DONE:
                return True

    # -- one question ------------------------------------------------------------------

    def _keys(self, item: Item, *, changing: bool) -> list[tuple[str, str]]:
        keys: list[tuple[str, str]] = []
        if changing:
            keys.append(("b", "back to your answers"))
        elif self.interview.cursor > 0:
            keys.append(("b", "back"))
        if item.allow_decline:
            keys.append(("s", "prefer not to say"))
        keys.extend((extra.key, extra.label) for extra in self.options.extra_keys)
        keys += [("?", "help"), ("q", "quit")]
        return keys

    def _how_to_answer(self, item: Item) -> str:
        if item.type is ItemType.MULTI:
            return "Type one or more numbers (like 1 3) and press Enter."
        return "Type a number and press Enter."

    def _header(self, item: Item, *, changing: bool) -> None:
        section = self.questionnaire.section_of(item.id)
        questions = self.interview.questions()
        if changing:
            where = "Change your answer"
            done = 1.0
        else:
            n = self.interview.cursor + 1
            total, exact = self.interview.expected_total()
            where = f"Question {n} of {total if exact else f'up to {total}'}"
            done = (n - 1) / total
        if self.term.plain:
            self.term.print(Text(f"{section.title}. {where}."))
        else:
            header = Table.grid(expand=True)
            header.add_column(ratio=1)
            header.add_column(justify="right", no_wrap=True)
            header.add_row(Text(section.title, style="heading"), Text(where))
            width = max(10, self.term.console.width)
            filled = round(done * width)
            bar = Text("━" * filled, style="heading")
            bar.append("─" * (width - filled), style="muted")
            self.term.print(header, bar)
        index = questions.index(item.id)
        first_of_section = index == 0 or (
            self.questionnaire.items[questions[index - 1]].section != item.section
        )
        if first_of_section and section.intro:
            self.term.print(Text(section.intro, style="muted"))

    def _render_question(self, item: Item, *, changing: bool) -> None:
        term = self.term
        term.new_screen()
        if self.notice:
            term.print(Text(self.notice, style="heading"))
            self.notice = None
        self._header(item, changing=changing)
        term.print()
        if item.time_frame:
            term.print(Text(f"About the {item.time_frame}.", style="muted"))
        term.print(Text(item.text, style="heading"))
        if item.help:
            term.print(Text(item.help, style="muted"))
        term.print()
        current = self.interview.answer_of(item.id)
        chosen = set(current) if isinstance(current, tuple) else {current}
        choices = Table.grid(padding=(0, 1))
        choices.add_column(justify="right", no_wrap=True)
        choices.add_column()
        for number, choice in enumerate(item.choices, start=1):
            label = Text(choice.label)
            if choice.code in chosen:
                label.append("  (your answer now)", style="heading")
            choices.add_row(Text(f"{number}." if term.plain else str(number), "heading"), label)
        term.print(choices)
        if current == DECLINED:
            term.print(Text("Your answer now: prefer not to say.", style="heading"))
        term.print()
        keys = ", ".join(f"{key} {label}" for key, label in self._keys(item, changing=changing))
        hint = self._how_to_answer(item)
        if current is not None:
            hint = hint.removesuffix(".") + ", or just press Enter to keep your answer."
        term.print(Text(f"{hint} Other keys: {keys}.", style="muted"))
        term.print(footer(self.region, plain=term.plain))

    def _help(self, item: Item, *, changing: bool) -> None:
        lines: list[Line] = []
        if item.help:
            lines.append(item.help)
        lines.append(Bullet(self._how_to_answer(item)))
        if item.type is ItemType.MULTI:
            lines.append(Bullet("Choose all that apply: separate the numbers with spaces."))
        for key, label in self._keys(item, changing=changing):
            if key == "s":
                label = "prefer not to say: that is fine, the question is left out of your result"
            elif key == "q":
                label = "quit: stop now"
            lines.append(Bullet(f"{key}: {label}"))
        self.term.print(render_block(Block("Help", tuple(lines)), plain=self.term.plain))

    def _invalid(self, item: Item, typed: str, *, changing: bool) -> None:
        """Say why the input was not taken, and list every key that works here."""
        key = typed.strip()
        if key.lower() == "b":
            first = "This is the first question, so there is no going back."
        elif key.lower() == "s":
            first = "This question needs an answer to go on."
        elif key:
            shown = key if len(key) <= _MAX_ECHO else key[:_MAX_ECHO] + "..."
            first = f'"{shown}" is not one of the choices.'
        else:
            first = "Please type an answer."
        numbers = _join_or([str(n) for n in range(1, len(item.choices) + 1)])
        what = "one or more of " if item.type is ItemType.MULTI else ""
        keys = ", ".join(f"{k} ({label})" for k, label in self._keys(item, changing=changing))
        self.term.print(Text(f"{first} Type {what}{numbers}, or one of these keys: {keys}."))

    def _question(self, item: Item, *, changing: bool) -> _Step:
        self._render_question(item, changing=changing)
        while True:
            typed = self.term.ask(self.options.prompt)
            key = typed.strip().lower()
            current = self.interview.answer_of(item.id)
            extra = next((e for e in self.options.extra_keys if e.key == key), None)
            value: Answer | None = None
            if key == "q":
                return _Step.QUIT
            if key == "?":
                self._help(item, changing=changing)
                continue
            if extra is not None:
                extra.action(self.term, self.interview, item)
                continue
            if key == "b":
                if changing or self.interview.back():
                    return _Step.NEXT
            elif key == "s":
                value = DECLINED if item.allow_decline else None
            elif key == "":
                value = current  # Enter keeps an earlier answer
            else:
                value = parse_choice(item, typed)
            if value is None:
                self._invalid(item, typed, changing=changing)
                continue
            return self._apply(item, value, current, changing=changing)

    def _apply(
        self, item: Item, value: Answer, previous: Answer | None, *, changing: bool
    ) -> _Step:
        if changing:
            dropped = self.interview.change(item.id, value)
            self.interview.resume_point()
        else:
            dropped = self.interview.answer(value)
            if self.reviewed:
                self.interview.resume_point()
        new = self.interview.answer_of(item.id)
        if new == previous:
            return _Step.NEXT
        assert new is not None
        if dropped:
            count = len(dropped)
            self.notice = (
                f"Because of that change, {count} question{'s' if count != 1 else ''} "
                f"no longer appl{'y' if count != 1 else 'ies'}; "
                f"{'their answers were' if count != 1 else 'its answer was'} removed."
            )
        level = crisis_level([f for f in self.interview.flags() if f.item == item.id])
        if level is not None:
            # The panel comes first, before anything that could fail (such as saving).
            self._show_crisis(level)
        if self.options.on_answer is not None:
            event = AnswerEvent(
                item.id,
                "changed" if previous is not None else "answered",
                new,
                previous,
                tuple(dropped),
            )
            self.options.on_answer(self.interview, event)
        if level is not None:
            return self._crisis_pause()
        return _Step.NEXT

    def _show_crisis(self, level: FlagLevel) -> None:
        term = self.term
        term.new_screen()
        term.print(render_block(crisis_block(level, self.region), plain=term.plain))
        term.print(footer(self.region, plain=term.plain))

    def _crisis_pause(self) -> _Step:
        key = self.term.ask("When you are ready, press Enter to go on, or q to stop:")
        return _Step.QUIT if key.strip().lower() == "q" else _Step.NEXT

    # -- review ------------------------------------------------------------------------

    def _render_review(self) -> list[str]:
        term = self.term
        term.new_screen()
        if self.notice:
            term.print(Text(self.notice, style="heading"))
            self.notice = None
        questions = list(self.interview.questions())
        term.print(Text("Check your answers", style="heading"))
        term.print(
            "This is everything you answered. To change an answer, type its number. "
            "When you are happy with them, press Enter to see your result."
        )
        term.print()
        rows = Table.grid(padding=(0, 1))
        rows.add_column(justify="right", no_wrap=True)
        rows.add_column()
        for number, item_id in enumerate(questions, start=1):
            item = self.questionnaire.items[item_id]
            answer = self.interview.answer_of(item_id)
            row = Text(f"{item.short}: ")
            row.append(
                answer_label(item, answer) if answer is not None else "not answered",
                style="heading",
            )
            rows.add_row(Text(f"{number}."), row)
        term.print(rows)
        term.print()
        term.print(
            Text(
                f"Type a number from 1 to {len(questions)} and press Enter to change that "
                "answer, or press Enter to see your result. Other keys: b back, ? help, q quit.",
                style="muted",
            )
        )
        term.print(footer(self.region, plain=term.plain))
        return questions

    def _review(self) -> _Step:
        self.reviewed = True
        questions = self._render_review()
        while True:
            typed = self.term.ask("Your choice:")
            key = typed.strip().lower()
            if key == "":
                return _Step.DONE
            if key == "q":
                return _Step.QUIT
            if key == "b":
                self.interview.back()
                return _Step.NEXT
            if key == "?":
                self.term.print(
                    render_block(
                        Block(
                            "Help",
                            (
                                Bullet("a number: change that answer"),
                                Bullet("Enter: see your result"),
                                Bullet("b: back to the last question"),
                                Bullet("q: quit: stop now"),
                            ),
                        ),
                        plain=self.term.plain,
                    )
                )
                continue
            if key.isdigit() and 1 <= int(key) <= len(questions):
                item = self.questionnaire.items[questions[int(key) - 1]]
                return self._question(item, changing=True)
            self.term.print(
                f'"{typed.strip()[:_MAX_ECHO]}" is not a choice here. Type a number from 1 to '
                f"{len(questions)}, or press Enter to see your result; or b (back), ? (help), "
                "q (quit)."
            )
