"""The report as Markdown (CommonMark with pipe tables), for common viewers and editors.

Everything that comes from a session (client id, notes, reasons) is escaped, so a note
cannot turn into a heading, a link, HTML or a broken table.
"""

from __future__ import annotations

import re

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

# Characters that mean something inline in CommonMark or GitHub tables.
_INLINE = re.compile(r"([\\`*_\[\]<>|~&!#])")
# What means something at the start of a line: list items, setext underlines.
_BULLET = re.compile(r"^([-+=])")
_NUMBERED = re.compile(r"^(\d+)([.)])")


def escape(text: str) -> str:
    """Text shown literally; line breaks become spaces (a cell or item is one line)."""
    flat = " ".join(text.split())
    flat = _INLINE.sub(r"\\\1", flat)
    flat = _BULLET.sub(r"\\\1", flat)
    return _NUMBERED.sub(r"\1\\\2", flat)


class MarkdownFormat:
    suffix = ".md"

    def format(self, report: SessionReport) -> str:
        parts = [f"# {escape(title(report))}"]
        parts += [render_block(b) for b in document(report) if not isinstance(b, Chart)]
        return "\n\n".join(parts) + "\n"


def render_block(block: Block) -> str:
    match block:
        case Heading(text):
            return f"## {escape(text)}"
        case Subheading(text):
            return f"### {escape(text)}"
        case Paragraph(text):
            return escape(text)
        case Notice(text):
            return f"> **{escape(text)}**"
        case Bullets(items):
            return "\n".join(f"- {escape(item)}" for item in items)
        case Fields(rows):
            return "\n".join(f"- **{escape(key)}:** {escape(value)}" for key, value in rows)
        case Table(columns, rows):
            lines = [_row(columns), "|" + "|".join("---" for _ in columns) + "|"]
            lines += [_row(row) for row in rows]
            return "\n".join(lines)
        case Chart():
            return ""  # the table beside it gives the same facts
        case _:
            assert_never(block)


def _row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(escape(cell) or " " for cell in cells) + " |"
