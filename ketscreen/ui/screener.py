"""The self-check for a person alone at a terminal: welcome, questions, review, result.

`run_screener` is the one function `ketscreen run` calls. Nothing is written unless the
person asks for a copy of the result, to a file they name (mode 0600, never replacing
a file without asking).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from rich.text import Text

from ketscreen.core.interview import Interview
from ketscreen.core.model import Questionnaire
from ketscreen.core.scoring import Result, utc_now
from ketscreen.io.resources import Region, RegionChoice
from ketscreen.ui.blocks import Bullet, render_block
from ketscreen.ui.interview_screen import Welcome, key_of, run_interview, show_welcome, shown
from ketscreen.ui.paging import Part, show_pages
from ketscreen.ui.result_view import result_html, result_parts, result_text
from ketscreen.ui.safety import crisis_block, crisis_level, footer, footer_text
from ketscreen.ui.terminal import InputEnded, Terminal

SAVE_OFFER = (
    "To keep this result, you can save a copy: type t for a text file or h for a web "
    "page. Nothing is saved otherwise."
)
STOPPED = "You stopped the check. Nothing was saved. You can start again at any time."
SECONDS_PER_QUESTION = 10


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_SAID_BY_THE_WELCOME = re.compile(r"\bminutes?\b|\bnot a diagnosis\b", re.IGNORECASE)


def description_without_repeats(description: str) -> str:
    """The questionnaire's description without the sentences the welcome's own points
    say anyway (how long it takes, that it is not a diagnosis), so each is said once."""
    sentences = _SENTENCE_END.split(description.strip())
    return " ".join(s for s in sentences if not _SAID_BY_THE_WELCOME.search(s))


def self_check_welcome(questionnaire: Questionnaire) -> Welcome:
    count = len(questionnaire.items)
    minutes = max(1, round(count * SECONDS_PER_QUESTION / 60))
    return Welcome(
        title=questionnaire.title,
        lines=(
            description_without_repeats(questionnaire.description),
            "",
            Bullet(
                "This is a screening tool, not a diagnosis. It shows warning signs and "
                "where to find help."
            ),
            Bullet(
                f"Up to {count} questions, about {minutes} minute{'s' if minutes != 1 else ''}."
            ),
            Bullet(
                "Private: your answers stay on this computer. Nothing is sent, and nothing "
                "is saved unless you choose to save it."
            ),
            Bullet("If at any point you feel distressed, you can stop: type q at any question."),
            Bullet(
                "Answer by typing a number and pressing Enter (on yes-or-no questions, y or n "
                "works too). b goes back, s is prefer not to say, ? is help."
            ),
            "",
        ),
    )


def run_screener(
    term: Terminal,
    questionnaire: Questionnaire,
    region: Region,
    choice: RegionChoice,
    *,
    clock: Callable[[], str] = utc_now,
) -> Result | None:
    """The whole self-check. Returns the result, or None when the person stopped.

    Raises InputEnded when input ends before the result; Ctrl-C propagates.
    """
    interview = Interview(questionnaire)
    try:
        finished = show_welcome(
            term, self_check_welcome(questionnaire), region, choice
        ) and run_interview(term, interview, region)
    except InputEnded:
        _leaving(term, interview, region)
        raise InputEnded("input ended before the check was finished. Nothing was saved.") from None
    except KeyboardInterrupt:
        _leaving(term, interview, region)  # Terminal.ask has ended the prompt's line
        raise
    if not finished:
        term.print()
        term.print(Text(STOPPED, style="heading"))
        _leaving(term, interview, region)
        return None
    result = interview.result(scored_at=clock())
    term.new_screen()
    try:
        parts = result_parts(questionnaire, result, region, plain=term.plain, with_footer=False)
        pages = show_result(term, parts, region, tail=SAVE_OFFER)

        def back() -> None:
            term.new_screen()
            show_result(term, parts, region, start=-2, tail=SAVE_OFFER)

        offer_copy(term, questionnaire, result, region, back=back if pages > 1 else None)
    except InputEnded:
        pass  # the result has been shown; the end of input just means "finish"
    return result


def _leaving(term: Terminal, interview: Interview, region: Region) -> None:
    """Last words when the check ends early: the crisis panel again if it was raised,
    and always the crisis line."""
    level = crisis_level(interview.flags())
    if level is not None:
        term.print(
            render_block(crisis_block(level, region, interview.questionnaire), plain=term.plain)
        )
    term.print(footer(region, plain=term.plain))


def show_result(
    term: Terminal,
    parts: list[Part],
    region: Region,
    *,
    start: int = 0,
    tail: str | None = None,
) -> int:
    """The result, a page at a time on a terminal, with the crisis line under each page.
    Returns the number of pages."""
    return show_pages(
        term,
        parts,
        footer(region, plain=term.plain),
        bare_foot=footer_text(region),
        start=start,
        tail=Text(tail) if tail else None,
    )


def _write(term: Terminal, path: Path, content: str, *, force: bool) -> bool:
    from ketscreen.io.atomic import OutputError, write_text_atomic

    try:
        write_text_atomic(path, content, force=force)
    except OutputError as exc:
        term.print(Text(f"Could not save: {exc}", style="heading"))
        return False
    term.print(
        Text(
            f"Saved a copy to {path.resolve()}. Only your user account can open it "
            "(file mode 0600).",
            style="heading",
        )
    )
    return True


KINDS = {"t": ("txt", "a text file"), "h": ("html", "a web page (HTML)")}
_SUFFIXES = {".txt": "t", ".text": "t", ".html": "h", ".htm": "h"}


def _save_as(
    term: Terminal,
    key: str,
    typed_name: str,
    content: Callable[[str], str],
) -> bool:
    """Ask for a file name (unless one was typed) and save; True when saved.

    An existing file is replaced only after `y`; Enter there asks for another name, and
    a name typed there is taken as that other name. A name that cannot be written asks
    for another; `b` goes back to the choices.
    """
    from ketscreen.io.atomic import OutputError, path_kind

    suffix, what = KINDS[key]
    default = Path(f"ketscreen-result.{suffix}")
    typed = typed_name
    while True:
        if not typed:
            typed = term.ask(
                f"Save {what} to which file? Press Enter for {default}, or type b to go back:"
            ).strip()
            if typed.lower() in ("b", "back"):
                return False
        path = Path(typed).expanduser() if typed else default
        typed = ""
        try:
            kind = path_kind(path)
        except OutputError as exc:
            term.print(Text(f"Could not save: {exc}.", style="heading"))
            continue
        if kind == "folder":
            term.print(Text(f"{path} is a folder; give a file name.", style="heading"))
            continue
        force = False
        if kind == "file":
            answer = term.ask(
                f"{path} already exists. Type y to replace it, or type another file name "
                "(Enter: choose again):"
            ).strip()
            if answer.lower() not in ("y", "yes"):
                typed = answer  # another name, or "" to be asked again
                continue
            force = True
        if _write(term, path, content(suffix), force=force):
            return True


def offer_copy(
    term: Terminal,
    questionnaire: Questionnaire,
    result: Result,
    region: Region,
    *,
    back: Callable[[], None] | None = None,
) -> None:
    """Save a copy only if asked: t (text) or h (web page), to a file the person names.

    A file name typed here (ending in .txt or .html) saves that kind at once. With
    `back`, `b` shows the result's pages again, from the last but one.
    """

    def content(suffix: str) -> str:
        if suffix == "txt":
            return result_text(questionnaire, result, region)
        return result_html(questionnaire, result, region)

    rest = ", b back, or Enter to finish:" if back else ", or press Enter to finish:"
    prompt = f"Save a copy (t or h){rest}"
    while True:
        typed = term.ask(prompt).strip()
        key = key_of(typed)
        if key in ("", "q"):
            return
        if key == "b" and back is not None:
            back()
            term.print()
            continue
        name = ""
        if key not in KINDS:
            by_name = _SUFFIXES.get(Path(typed).suffix.lower())
            if by_name is None:
                term.print(
                    f"{shown(typed)} is not a choice here. Type t, h, a file name ending in "
                    ".txt or .html, or press Enter to finish."
                )
                continue
            key, name = by_name, typed
        if _save_as(term, key, name, content):
            prompt = f"Save another copy (t or h){rest}"
