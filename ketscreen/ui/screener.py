"""The self-check for a person alone at a terminal: welcome, questions, review, result.

`run_screener` is the one function `ketscreen run` calls. Nothing is written unless the
person asks for a copy of the result, to a file they name (mode 0600, never replacing
a file without asking).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.console import Group, RenderableType
from rich.segment import Segment, Segments
from rich.text import Text

from ketscreen.core.interview import Interview
from ketscreen.core.model import Questionnaire
from ketscreen.core.scoring import Result, utc_now
from ketscreen.io.resources import Region, RegionChoice
from ketscreen.ui.blocks import Bullet, render_block
from ketscreen.ui.interview_screen import Welcome, run_interview, show_welcome
from ketscreen.ui.result_view import result_html, result_renderables, result_text
from ketscreen.ui.safety import crisis_block, crisis_level, footer
from ketscreen.ui.terminal import InputEnded, Terminal

STOPPED = "You stopped the check. Nothing was saved. You can start again at any time."
SECONDS_PER_QUESTION = 10


def self_check_welcome(questionnaire: Questionnaire) -> Welcome:
    count = len(questionnaire.items)
    minutes = max(1, round(count * SECONDS_PER_QUESTION / 60))
    return Welcome(
        title=questionnaire.title,
        lines=(
            questionnaire.description,
            "",
            Bullet(
                "This is a screening tool, not a diagnosis. It shows warning signs and "
                "where to find help."
            ),
            Bullet(f"Up to {count} questions, about {minutes} minutes."),
            Bullet(
                "Private: your answers stay on this computer. Nothing is sent, and nothing "
                "is saved unless you choose to save it."
            ),
            Bullet("If at any point you feel distressed, you can stop: type q at any question."),
            Bullet(
                "Answer by typing a number and pressing Enter. b goes back, "
                "s is prefer not to say, ? is help."
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
        term.print()  # Ctrl-C came while a prompt waited on its line
        _leaving(term, interview, region)
        raise
    if not finished:
        term.print()
        term.print(Text(STOPPED, style="heading"))
        _leaving(term, interview, region)
        return None
    result = interview.result(scored_at=clock())
    term.new_screen()
    try:
        parts = result_renderables(
            questionnaire, result, region, plain=term.plain, with_footer=False
        )
        show_paged(term, parts, footer(region, plain=term.plain))
        offer_copy(term, questionnaire, result, region)
    except InputEnded:
        pass  # the result has been shown; the end of input just means "finish"
    return result


def _leaving(term: Terminal, interview: Interview, region: Region) -> None:
    """Last words when the check ends early: the crisis panel again if it was raised,
    and always the crisis line."""
    level = crisis_level(interview.flags())
    if level is not None:
        term.print(render_block(crisis_block(level, region), plain=term.plain))
    term.print(footer(region, plain=term.plain))


def show_paged(term: Terminal, parts: list[RenderableType], foot: RenderableType) -> None:
    """Print the parts with blank lines between, then `foot`; in a rich terminal, a page
    at a time with `foot` at the bottom of every page.

    The result starts with what matters most (the crisis panel, then the band), so a
    long result must not be left scrolled to its end. Plain mode and pipes print
    everything at once.
    """
    console = term.console
    spaced: list[RenderableType] = []
    for index, part in enumerate(parts):
        spaced.extend([Text()] if index else [])
        spaced.append(part)
    body = Group(*spaced)
    if term.plain or not console.is_terminal:
        console.print(body)
        console.print()
        console.print(foot)
        return
    options = console.options
    lines = console.render_lines(body, options, pad=False)
    foot_lines = console.render_lines(foot, options, pad=False)
    per_page = max(5, console.height - len(foot_lines) - 2)
    pages = [lines[i : i + per_page] for i in range(0, len(lines), per_page)]
    for number, page in enumerate(pages, start=1):
        if number > 1:
            term.new_screen()
        for line in page:
            # Segments carry no line end of their own: without one, lines run together.
            console.print(Segments([*line, Segment.line()]), end="")
        console.print(foot)
        if number < len(pages):
            term.ask(f"Press Enter to read on (page {number} of {len(pages)}):")


def _save(term: Terminal, path: Path, content: str) -> bool:
    from ketscreen.io.atomic import OutputError, path_kind, write_text_atomic

    force = False
    if path_kind(path) == "file":
        answer = term.ask(
            f"{path} already exists. Type y to replace it, or press Enter to choose another name:"
        )
        if answer.strip().lower() != "y":
            return False
        force = True
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


def offer_copy(
    term: Terminal, questionnaire: Questionnaire, result: Result, region: Region
) -> None:
    """Save a copy only if asked: t (text) or h (web page), to a file the person names."""
    from ketscreen.io.atomic import OutputError, path_kind

    kinds = {"t": ("txt", "a text file"), "h": ("html", "a web page (HTML)")}
    term.print()
    term.print(
        "To keep this result, you can save a copy: type t for a text file or h for a web "
        "page. Nothing is saved otherwise."
    )
    prompt = "Save a copy (t or h), or press Enter to finish:"
    while True:
        key = term.ask(prompt).strip().lower()
        if key in ("", "q"):
            return
        if key not in kinds:
            term.print(f'"{key[:20]}" is not a choice here. Type t, h, or press Enter.')
            continue
        suffix, what = kinds[key]
        default = Path(f"ketscreen-result.{suffix}")
        typed = term.ask(f"Save {what} to which file? Press Enter for {default}:").strip()
        path = Path(typed).expanduser() if typed else default
        try:
            kind = path_kind(path)
        except OutputError as exc:
            term.print(Text(f"Could not save: {exc}.", style="heading"))
            continue
        if kind == "folder":
            term.print(Text(f"{path} is a folder; give a file name.", style="heading"))
            continue
        content = (
            result_text(questionnaire, result, region)
            if suffix == "txt"
            else result_html(questionnaire, result, region)
        )
        if _save(term, path, content):
            prompt = "Save another copy (t or h), or press Enter to finish:"
