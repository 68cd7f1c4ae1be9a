"""Long screens a page at a time: pages break between blocks, never inside a short one.

A long screen (the result) is a list of `Part`s. On a paged terminal it is cut into
pages that fit above the footer and the prompt:

- a page breaks between parts; a part taller than a whole page breaks between its own
  rows, and its title is repeated on the next page with "(continued)";
- the parts marked `lead` (the crisis panel, the urgent alerts, the band) are always on
  the first page: when they do not fit drawn as panels, they are drawn unboxed, and
  then, if need be, the footer loses its rule;
- `b` goes back a page, Enter goes on, `q` skips to the last page.

Plain mode pauses at the same places when it runs in a terminal; through a pipe, and
whenever `Terminal.page_height` is None, everything is printed at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rich.console import Console, RenderableType
from rich.segment import Segment, Segments
from rich.text import Text

from ketscreen.ui.terminal import Terminal

Lines = list[list[Segment]]


@dataclass(frozen=True)
class Part:
    """One block of a long screen.

    `body` is the block as printed in one piece. `title` and `rows` describe it again
    for a page break: the rows are the pieces it may break between (`body` is then the
    title followed by the rows). `compact` is a shorter drawing (no box) for a first page
    that is short of room. `boxed` parts need no blank line between them.
    """

    body: RenderableType
    title: Text | None = None
    rows: tuple[RenderableType, ...] = ()
    header: RenderableType | None = None  # a table's header: under the title, repeated
    lead: bool = False
    compact: RenderableType | None = None
    boxed: bool = False


def print_parts(console: Console, parts: Sequence[Part]) -> None:
    """Everything at once, a blank line between parts (not between two panels)."""
    for index, part in enumerate(parts):
        if index and not (part.boxed and parts[index - 1].boxed):
            console.print()
        console.print(part.body)


def _render(console: Console, renderable: RenderableType) -> Lines:
    return console.render_lines(renderable, console.options, pad=False)


def _continued(title: Text) -> Text:
    text = title.copy()
    text.append(" (continued)")
    return text


def paginate(
    console: Console, parts: Sequence[Part], room: int, *, tight_lead: bool = False
) -> list[Lines]:
    """Cut `parts` into pages of at most `room` lines (a part that cannot be cut, taller
    than a page, is cut between lines). `tight_lead`: no blank lines between lead parts."""
    pages: list[Lines] = [[]]
    previous: Part | None = None

    def space(part: Part) -> int:
        """Lines used by the gap before `part` on the current page."""
        if previous is None or (part.boxed and previous.boxed):
            return 0
        if tight_lead and part.lead and previous.lead:
            return 0
        return 1 if pages[-1] else 0

    def put(lines: Lines, gap: int) -> None:
        pages[-1].extend([[]] * gap)
        pages[-1].extend(lines)

    for part in parts:
        lines = _render(console, part.body)
        gap = space(part)
        if len(lines) + gap <= room - len(pages[-1]):
            put(lines, gap)
        elif len(lines) <= room and not part.lead:
            pages.append([])
            put(lines, 0)
        elif part.title is not None and part.rows:
            header = _render(console, part.header) if part.header is not None else []
            title = _render(console, part.title) + header
            first_row = _render(console, part.rows[0])
            if len(title) + len(first_row) + gap > room - len(pages[-1]):
                pages.append([])
                gap = 0
            put(title, gap)
            for row in part.rows:
                row_lines = _render(console, row)
                if pages[-1] and len(row_lines) > room - len(pages[-1]):
                    pages.append([])
                    put(_render(console, _continued(part.title)) + header, 0)
                put(row_lines, 0)
        else:  # taller than a page, with no rows to break between: break between lines
            free = room - len(pages[-1]) - gap
            if free <= 0:
                pages.append([])
                gap, free = 0, room
            put(lines[:free], gap)
            rest = lines[free:]
            while rest:
                pages.append([])
                put(rest[:room], 0)
                rest = rest[room:]
        previous = part
    return [page for page in pages if page]


def layout(
    term: Terminal, parts: Sequence[Part], foot: RenderableType, bare_foot: RenderableType
) -> tuple[list[Lines], Lines, int]:
    """(pages, footer lines, lines of room on a page) for the terminal's page height.

    The lead parts must share the first page. Tried in turn until they do: as drawn;
    unboxed; unboxed with no blank lines between them; and that with the footer's rule
    left out. (If even that is too tall, they break between lines.)
    """
    console = term.console
    height = term.page_height or console.height
    reserved = term.screen_start_lines + 1  # the top of a new screen, and the prompt
    compact = [
        replace(p, body=p.compact, boxed=False) if p.lead and p.compact is not None else p
        for p in parts
    ]
    tries: list[tuple[Sequence[Part], RenderableType, bool]] = [
        (parts, foot, False),
        (compact, foot, False),
        (compact, foot, True),
        (compact, bare_foot, True),
    ]
    for chosen, chosen_foot, tight in tries:
        foot_lines = _render(console, chosen_foot)
        room = height - reserved - len(foot_lines)
        lead = [p for p in chosen if p.lead]
        if len(paginate(console, lead, room, tight_lead=tight)) <= 1:
            break
    pages = paginate(console, chosen, room, tight_lead=tight)
    return pages, foot_lines, room


def _print_lines(console: Console, lines: Lines) -> None:
    for line in lines:
        # Segments carry no line end of their own: without one, lines run together.
        console.print(Segments([*line, Segment.line()]), end="")


def show_pages(
    term: Terminal,
    parts: Sequence[Part],
    foot: RenderableType,
    *,
    bare_foot: RenderableType | None = None,
    start: int = 0,
    tail: RenderableType | None = None,
) -> int:
    """Show `parts` with `foot` under every page; returns the number of pages shown.

    Without paging, everything is printed at once and then `foot`. `start` is the page
    to begin with (counted from 0; -2: the last but one, for "b" after the last page).
    `tail` is a line or two for the end of the last page (what the prompt after it is
    about); on a paged terminal it is left out when the last page has no room for it,
    so that it never takes a page of its own.
    """
    console = term.console
    if term.page_height is None:
        print_parts(console, [*parts, *([Part(tail)] if tail is not None else [])])
        console.print()
        console.print(foot)
        return 1
    pages, foot_lines, room = layout(term, parts, foot, bare_foot or foot)
    if tail is not None:
        tail_lines = [[], *_render(console, tail)]
        if len(pages[-1]) + len(tail_lines) <= room:
            pages[-1] = [*pages[-1], *tail_lines]
    index = max(0, len(pages) + start if start < 0 else min(start, len(pages) - 1))
    first = True
    while True:
        if not first:  # the caller started the screen for the first page
            term.new_screen()
        first = False
        _print_lines(console, pages[index])
        _print_lines(console, foot_lines)
        if index == len(pages) - 1:
            return len(pages)
        index = _turn(term, index, len(pages))


def _turn(term: Terminal, index: int, total: int) -> int:
    """Ask for the next page; the index of the page to show."""
    from ketscreen.ui.interview_screen import key_of

    back = ", b to go back a page" if index else ""
    while True:
        key = key_of(term.ask(f"Page {index + 1} of {total}: press Enter for more{back}:"))
        if key == "":
            return index + 1
        if key == "b" and index:
            return index - 1
        if key == "q":  # skip to the end (the last page, then what follows it)
            return total - 1
        before = ", b for the one before," if index else ""
        term.print(Text(f"Press Enter for page {index + 2}{before} or q to skip to the end."))
