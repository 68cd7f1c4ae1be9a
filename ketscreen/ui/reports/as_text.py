"""The report as plain text: 78 columns, no colour or markup, for a screen or a printer."""

from __future__ import annotations

import textwrap
from itertools import zip_longest

from ketscreen.ui.reports import assert_never
from ketscreen.ui.reports.content import (
    Block,
    Bullets,
    Chart,
    Fields,
    Heading,
    Notice,
    Paragraph,
    SessionReport,
    Subheading,
    Table,
    document,
    title,
)

WIDTH = 80
GAP = "  "
MIN_COLUMN = 8
MAX_KEY = 20


class TextFormat:
    suffix = ".txt"

    def format(self, report: SessionReport) -> str:
        heading = title(report).upper()
        lines = [heading, "=" * len(heading)]
        for block in document(report):
            if isinstance(block, Chart):
                continue
            lines.append("")
            lines += render_block(block)
        return "\n".join(lines) + "\n"


def _wrap(text: str, width: int, indent: str = "", subsequent: str | None = None) -> list[str]:
    """Wrap each line of `text`; long words (a hash) stay whole rather than split."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines += textwrap.wrap(
            paragraph,
            width,
            initial_indent=indent,
            subsequent_indent=indent if subsequent is None else subsequent,
            break_long_words=False,
            break_on_hyphens=False,
        ) or [indent]
    return lines


def render_block(block: Block) -> list[str]:
    match block:
        case Heading(text):
            return [text.upper(), "-" * len(text)]
        case Subheading(text):
            return [f"[{text}]"]
        case Paragraph(text):
            return _wrap(text, WIDTH)
        case Notice(text):
            return ["!" * WIDTH, *_wrap(text, WIDTH, "!! "), "!" * WIDTH]
        case Bullets(items):
            lines = []
            for item in items:
                wrapped = _wrap(item, WIDTH - 2)
                lines += [f"- {wrapped[0]}", *(f"  {line}" for line in wrapped[1:])]
            return lines
        case Fields(rows):
            return _fields(rows)
        case Table(columns, rows):
            return _table(columns, rows)
        case Chart():
            return []  # the table beside it gives the same facts
        case _:
            assert_never(block)


def _fields(rows: tuple[tuple[str, str], ...]) -> list[str]:
    """`Key:   value` in two columns; long keys put each value after its own key."""
    key_width = max(len(key) for key, _ in rows) + 2
    lines = []
    for key, value in rows:
        if key_width > MAX_KEY:
            lines += _wrap(f"{key}: {value}", WIDTH, subsequent="    ")
            continue
        wrapped = _wrap(value, WIDTH - key_width)
        lines.append(f"{key + ':':<{key_width}}{wrapped[0]}")
        lines += [" " * key_width + line for line in wrapped[1:]]
    return lines


def _widths(columns: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> list[int]:
    widths = [
        max([len(header), *(len(row[index]) for row in rows)])
        for index, header in enumerate(columns)
    ]
    room = WIDTH - len(GAP) * (len(columns) - 1)
    while sum(widths) > room:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= MIN_COLUMN:
            break
        widths[widest] -= 1
    return widths


def _table(columns: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> list[str]:
    widths = _widths(columns, rows)

    def lines_of(cells: tuple[str, ...]) -> list[list[str]]:
        return [
            textwrap.wrap(cell, width) or [""] for cell, width in zip(cells, widths, strict=True)
        ]

    def join(cells: tuple[str, ...]) -> list[str]:
        wrapped = lines_of(cells)
        return [
            GAP.join(f"{part:<{width}}" for part, width in zip(parts, widths, strict=True)).rstrip()
            for parts in zip_longest(*wrapped, fillvalue="")
        ]

    body = [join(row) for row in rows]
    spaced = any(len(lines) > 1 for lines in body)
    out = [*join(columns), GAP.join("-" * width for width in widths)]
    for index, lines in enumerate(body):
        if spaced and index:
            out.append("")
        out += lines
    return out
