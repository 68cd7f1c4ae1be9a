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

Keys: a number answers (several numbers, like `1 3`, for choose-all questions), `y`
and `n` answer yes-or-no questions, Enter keeps an earlier answer, `b` goes back, `s` is
"prefer not to say" (where allowed), `?` shows help, `q` stops. The words `yes`, `no`,
`back`, `skip`, `help` and `quit` work wherever their key does.

A change that would remove more than one answer (questions that no longer apply) asks
first; the removed answers come back if the change is undone before the end. The review
screen, like the result, is shown a page at a time on a terminal.
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

RESERVED_KEYS = frozenset({"b", "s", "?", "q", "y", "n"})
WORDS = {"back": "b", "skip": "s", "help": "?", "quit": "q"}
"""Words that work wherever their key does (yes and no are answers: see parse_choice)."""
_SEPARATORS = re.compile(r"[\s,;]+")
_MAX_ECHO = 40


def key_of(typed: str) -> str:
    """What was typed, as a key: trimmed, lower case, a word such as "back" as its key."""
    key = typed.strip().lower()
    return WORDS.get(key, key)


def shown(typed: str) -> str:
    """Typed text quoted back to the person as typed, cut (with "...") when long."""
    text = typed.strip()
    return f'"{text if len(text) <= _MAX_ECHO else text[:_MAX_ECHO] + "..."}"'


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
    """A key added to every question screen, e.g. `a` to add a note to the question."""

    key: str
    label: str
    action: Callable[[Terminal, Interview, Item], None]

    word: str | None = None  # a word that works as the key, such as "note"

    def __post_init__(self) -> None:
        if len(self.key) != 1 or self.key.isdigit() or self.key in RESERVED_KEYS:
            raise ValueError(
                f"extra key {self.key!r} must be one character, not a digit or b/s/?/q/y/n"
            )


@dataclass(frozen=True)
class InterviewOptions:
    """`quit_help` says what `q` does (in help); `mark` adds words to an answer on the
    review screen (for example "note added")."""

    prompt: str = "Your answer:"
    on_answer: AnswerHook | None = None
    extra_keys: tuple[ExtraKey, ...] = ()
    quit_help: str = "stop the check now; nothing is saved"
    mark: Callable[[str], str | None] | None = None
    crisis_label: str | None = None  # printed above the crisis panel (intake: "read this")
    review_title: str = "Check your answers"
    review_intro: str = "This is everything you answered. Is it right?"


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
        key = key_of(term.ask(welcome.start))
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
        self.review_page = 0

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
        if item.type is ItemType.YES_NO:
            return "Type a number, or y or n, and press Enter."
        return "Type a number and press Enter."

    def _header(self, item: Item, *, changing: bool) -> None:
        section = self.questionnaire.section_of(item.id)
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
        if self._intro_shown(item):
            self.term.print(Text(section.intro or "", style="muted"))

    def _intro_shown(self, item: Item) -> bool:
        """The section's intro is shown on its first question."""
        questions = self.interview.questions()
        index = questions.index(item.id)
        first_of_section = index == 0 or (
            self.questionnaire.items[questions[index - 1]].section != item.section
        )
        return first_of_section and bool(self.questionnaire.section_of(item.id).intro)

    def _time_frame_line(self, item: Item) -> str | None:
        """ "About the past 3 months.", unless the screen says it already (in the
        question, or in the section's intro above it)."""
        frame = item.time_frame
        if not frame:
            return None
        said = item.text
        if self._intro_shown(item):
            said += " " + (self.questionnaire.section_of(item.id).intro or "")
        if frame.lower() in " ".join(said.lower().split()):
            return None
        return f"About the {frame}."

    def _render_question(self, item: Item, *, changing: bool) -> None:
        term = self.term
        term.new_screen()
        if self.notice:
            term.print(Text(self.notice, style="heading"))
            self.notice = None
        self._header(item, changing=changing)
        term.print()
        frame = self._time_frame_line(item)
        if frame:
            term.print(Text(frame, style="muted"))
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
        """What each key does, in more words than the key line: nothing already on screen."""
        lines: list[Line] = []
        if item.type is ItemType.MULTI:
            lines.append(
                Bullet("Choose all that apply: type their numbers with spaces between, like 1 3.")
            )
        elif item.type is ItemType.YES_NO:
            lines.append(Bullet("Type 1 or n for No, 2 or y for Yes (or the words no, yes)."))
        else:
            lines.append(Bullet(f"Type the number of your answer, 1 to {len(item.choices)}."))
        if self.interview.answer_of(item.id) is not None:
            lines.append(Bullet("Enter alone: keep the answer you gave."))
        for key, label in self._keys(item, changing=changing):
            if key == "b":
                label = (
                    "back to the list of your answers, without changing this one"
                    if changing
                    else "back to the question before; your answers are kept"
                )
            elif key == "s":
                label = "prefer not to say: that is fine, the question is left out of your result"
            elif key == "q":
                label = self.options.quit_help
            elif key == "?":
                continue
            lines.append(Bullet(f"{key}: {label}"))
        words = ", ".join([*WORDS, *(e.word for e in self.options.extra_keys if e.word)])
        lines.append(Bullet(f"The words {words} work too."))
        self.term.print(render_block(Block("Help", tuple(lines)), plain=self.term.plain))

    def _invalid(self, item: Item, typed: str, *, changing: bool) -> None:
        """Say why the input was not taken, and list every key that works here."""
        key = key_of(typed)
        if key == "b":
            first = "This is the first question, so there is no going back."
        elif key == "s":
            first = "This question needs an answer to go on."
        elif key:
            first = f"{shown(typed)} is not one of the choices."
        else:
            first = "Please type an answer."
        numbers = _join_or(
            [str(n) for n in range(1, len(item.choices) + 1)]
            + (["y", "n"] if item.type is ItemType.YES_NO else [])
        )
        what = "one or more of " if item.type is ItemType.MULTI else ""
        keys = ", ".join(f"{k} ({label})" for k, label in self._keys(item, changing=changing))
        self.term.print(Text(f"{first} Type {what}{numbers}, or one of these keys: {keys}."))

    def _question(self, item: Item, *, changing: bool) -> _Step:
        self._render_question(item, changing=changing)
        while True:
            typed = self.term.ask(self.options.prompt)
            key = key_of(typed)
            current = self.interview.answer_of(item.id)
            extra = next((e for e in self.options.extra_keys if key in (e.key, e.word)), None)
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
            if not self._confirm_drops(item, value):
                self._render_question(item, changing=changing)
                continue
            return self._apply(item, value, current, changing=changing)

    def _confirm_drops(self, item: Item, value: Answer) -> bool:
        """Before a change removes more than one answer: say so and ask. True to go on."""
        dropped = self.interview.would_drop(item.id, value)
        if len(dropped) <= 1:
            return True
        current = self.interview.answer_of(item.id)
        new = answer_label(item, value)
        keep = f'keep "{answer_label(item, current)}"' if current is not None else "go back"
        self.term.print(
            Text(
                f'With "{new}" as the answer, {len(dropped)} questions you have answered '
                "no longer apply, and their answers will be set aside. If you change this "
                "answer back before the end, they come back.",
                style="heading",
            )
        )
        key = key_of(self.term.ask(f"Type y to change it, or press Enter to {keep}:"))
        return key in ("y", "yes")

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
        restored = self.interview.restored
        notices = []
        if dropped:
            count = len(dropped)
            notices.append(
                f"Because of that change, {count} question{'s' if count != 1 else ''} "
                f"no longer appl{'y' if count != 1 else 'ies'}; "
                f"{'their answers were' if count != 1 else 'its answer was'} set aside "
                "(change it back to bring them back)."
            )
        if restored:
            count = len(restored)
            notices.append(
                f"{count} earlier answer{'s are' if count != 1 else ' is'} back, as you gave them."
            )
        if notices:
            self.notice = " ".join(notices)
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
        if self.options.crisis_label:
            term.print(Text(self.options.crisis_label, style="heading"))
        term.print(
            render_block(
                crisis_block(level, self.region, self.interview.questionnaire), plain=term.plain
            )
        )
        term.print(footer(self.region, plain=term.plain))

    def _crisis_pause(self) -> _Step:
        key = key_of(self.term.ask("When you are ready, press Enter to go on, or q to stop:"))
        return _Step.QUIT if key == "q" else _Step.NEXT

    # -- review ------------------------------------------------------------------------

    def _review_row(self, number: int, item_id: str, width: int) -> Table:
        item = self.questionnaire.items[item_id]
        answer = self.interview.answer_of(item_id)
        row = Text(f"{item.short}: ")
        row.append(
            answer_label(item, answer) if answer is not None else "not answered",
            style="heading",
        )
        mark = self.options.mark(item_id) if self.options.mark else None
        if mark:
            row.append(f" [{mark}]", style="muted")
        grid = Table.grid(padding=(0, 1))
        grid.add_column(justify="right", no_wrap=True, width=width)
        grid.add_column()
        grid.add_row(Text(f"{number}."), row)
        return grid

    def _review_pages(self, questions: list[str], fixed: int) -> list[list[int]]:
        """Question numbers (from 1) on each page of the review."""
        numbers = list(range(1, len(questions) + 1))
        height = self.term.page_height
        if height is None:
            return [numbers]
        console = self.term.console
        width = len(str(len(questions))) + 1
        room = max(3, height - fixed)
        heights = [
            len(console.render_lines(self._review_row(n, questions[n - 1], width), pad=False))
            for n in numbers
        ]

        def fill(limit: int) -> list[list[int]]:
            pages: list[list[int]] = [[]]
            used = 0
            for number, lines in zip(numbers, heights, strict=True):
                if pages[-1] and used + lines > limit:
                    pages.append([])
                    used = 0
                pages[-1].append(number)
                used += lines
            return pages

        pages = fill(room)
        # The same number of pages, filled evenly: no last page with two answers on it.
        even = fill(min(room, -(-sum(heights) // len(pages))))
        return even if len(even) == len(pages) else pages

    def _review_keys(self, page: int, pages: int, total: int) -> str:
        """One short line at 80 columns: the review's room is for the answers. (What b
        does on each page, and that numbers work on any page, is in its help.)"""
        enter = "Enter: more" if page < pages - 1 else "Enter: the result"
        return f"Type a number to change that answer. {enter}. b back, ? help, q quit."

    def _render_review(self, page: int) -> tuple[list[str], list[list[int]]]:
        term = self.term
        console = term.console
        term.new_screen()
        head: list[Text | str] = []
        if self.notice:
            head.append(Text(self.notice, style="heading"))
            self.notice = None
        questions = list(self.interview.questions())
        head.append(Text(self.options.review_title, style="heading"))  # page: see below
        head.append(self.options.review_intro)
        foot = footer(self.region, plain=term.plain)
        fixed = term.screen_start_lines + 2 + 1  # the screen's top, two blank lines, prompt
        for part in (*head, foot):
            fixed += len(console.render_lines(part, console.options, pad=False))
        fixed += max(  # the longer of the two key lines
            len(console.render_lines(Text(self._review_keys(p, 2, 0)), pad=False)) for p in (0, 1)
        )
        pages = self._review_pages(questions, fixed)
        page = min(page, len(pages) - 1)
        if len(pages) > 1:
            head[-2] = Text(
                f"{self.options.review_title} (page {page + 1} of {len(pages)})", style="heading"
            )
        for part in head:
            term.print(part)
        term.print()
        width = len(str(len(questions))) + 1
        for number in pages[page]:
            term.print(self._review_row(number, questions[number - 1], width))
        term.print()
        term.print(Text(self._review_keys(page, len(pages), len(questions)), style="muted"))
        term.print(foot)
        self.review_page = page
        return questions, pages

    def _review(self) -> _Step:
        self.reviewed = True
        questions, pages = self._render_review(self.review_page)
        page = self.review_page
        while True:
            typed = self.term.ask("Your choice:")
            key = key_of(typed)
            if key == "":
                if page == len(pages) - 1:
                    return _Step.DONE
                questions, pages = self._render_review(page + 1)
                page = self.review_page
                continue
            if key == "q":
                return _Step.QUIT
            if key == "b":
                if page == 0:
                    self.interview.back()
                    return _Step.NEXT
                questions, pages = self._render_review(page - 1)
                page = self.review_page
                continue
            if key == "?":
                self._review_help(page, len(pages))
                continue
            if key.isdigit() and 1 <= int(key) <= len(questions):
                item = self.questionnaire.items[questions[int(key) - 1]]
                self.review_page = next(i for i, p in enumerate(pages) if int(key) in p)
                return self._question(item, changing=True)
            self.term.print(
                f"{shown(typed)} is not a choice here. Type a number from 1 to "
                f"{len(questions)}, or press Enter; or b (back), ? (help), q (quit)."
            )

    def _review_help(self, page: int, pages: int) -> None:
        last = page == pages - 1
        lines = (
            Bullet("a number, then Enter: change that answer (any number, on any page)"),
            Bullet("Enter alone: see your result" if last else "Enter alone: the next page"),
            Bullet("b: the page before" if page else "b: back to the last question"),
            Bullet(f"q: {self.options.quit_help}"),
            Bullet(f"The words {', '.join(w for w in WORDS if w != 'skip')} work too."),
        )
        self.term.print(render_block(Block("Help", lines), plain=self.term.plain))
