"""Blocks of text that render as rich panels or as plain lines, from one description.

A screen is described once (a title, paragraphs and bullet points, a theme style) and
drawn either with Rich boxes and colour or, in plain mode, as plain lines a screen
reader can read and a pipe can carry. Words always carry the meaning; colour only
repeats it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text


@dataclass(frozen=True)
class Bullet:
    """One point in a list."""

    text: str | Text


Line = str | Text | Bullet


@dataclass(frozen=True)
class Block:
    """A titled part of a screen. `boxed` draws a panel in rich mode (never in plain)."""

    title: str | Text
    lines: tuple[Line, ...] = ()
    style: str = "heading"
    boxed: bool = False


def bullet_list(items: tuple[str | Text, ...] | list[str | Text]) -> tuple[Bullet, ...]:
    return tuple(Bullet(item) for item in items)


def _text(value: str | Text) -> Text:
    return value if isinstance(value, Text) else Text(value)


def _line(line: Line, *, plain: bool) -> RenderableType:
    if not isinstance(line, Bullet):
        return _text(line)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    grid.add_row("-" if plain else "•", _text(line.text))
    return grid


def block_title(block: Block) -> Text:
    title = _text(block.title).copy()
    title.stylize(block.style)
    return title


def block_rows(block: Block, *, plain: bool) -> tuple[RenderableType, ...]:
    """The block's lines, one renderable each (a page may break between them)."""
    return tuple(_line(line, plain=plain) for line in block.lines)


def render_block(block: Block, *, plain: bool) -> RenderableType:
    """The block as one renderable: a panel (rich, boxed), or a heading and lines."""
    body = list(block_rows(block, plain=plain))
    title = block_title(block)
    if block.boxed and not plain:
        return Panel(
            Group(*body), title=title, title_align="left", border_style=block.style, padding=(0, 1)
        )
    return Group(title, *body)
