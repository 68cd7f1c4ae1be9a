"""Console construction in one place. Consoles are always passed in, never global.

Every console made here is safe for text from a person or a file: markup is off (a
note saying `[red]` is shown as typed, never parsed), and a render hook shows control
characters visibly (`ketscreen.core.safe_text.visible`), so nothing a file holds can
move the cursor, recolour the screen or rewrite a line. Colour and cursor movement
come only from Rich's own styles and controls.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from io import StringIO
from typing import IO, cast

from rich.console import Console, ConsoleOptions, ConsoleRenderable, RenderHook
from rich.segment import Segment
from rich.theme import Theme

from ketscreen.core.safe_text import CONTROL, visible

THEME = Theme(
    {
        "band.no_recent_use": "bold green",
        "band.prescribed_only": "bold cyan",
        "band.incomplete": "bold",
        "band.low": "bold green",
        "band.mild": "bold yellow",
        "band.moderate": "bold dark_orange",
        "band.severe": "bold red",
        "level.emergency": "bold white on red",
        "level.crisis": "bold red",
        "level.urgent": "bold dark_orange",
        "level.see_doctor": "bold yellow",
        "level.harm_reduction": "bold cyan",
        "level.not_assessed": "bold magenta",
        "muted": "dim",
        "heading": "bold",
    }
)


class TrimmedLines(io.TextIOBase):
    """A text stream that drops spaces at the end of each line before passing it on.

    Rich pads wrapped lines and table cells with spaces; in plain mode those reach
    screen readers and scripts as noise. A prompt (text without a line end) is passed
    on as it is when flushed.
    """

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        if lines:
            self._stream.write("\n".join(line.rstrip(" ") for line in lines) + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(self._pending)
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    @property
    def wrapped(self) -> IO[str]:
        """The stream written to (flush first to pass on a pending prompt)."""
        return self._stream


class _Visible:
    """A renderable drawn as it would be, with control characters in its text shown."""

    def __init__(self, renderable: ConsoleRenderable) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        for segment in console.render(self.renderable, options):
            if segment.control is None and CONTROL.search(segment.text):
                yield Segment(visible(segment.text), segment.style)
            else:
                yield segment


class ShowControls(RenderHook):
    """The console's last word on text: control characters become visible."""

    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [_Visible(renderable) for renderable in renderables]


def _safe(console: Console) -> Console:
    console.push_render_hook(ShowControls())
    return console


def make_console(
    file: IO[str] | None = None,
    *,
    stderr: bool = False,
    width: int | None = None,
    plain: bool = False,
) -> Console:
    """A console for output. `plain` means no colour, no styling and no cursor tricks,
    and no spaces at line ends."""
    if plain:
        file = cast(IO[str], TrimmedLines(file or (sys.stderr if stderr else sys.stdout)))
    return _safe(
        Console(
            file=file,
            stderr=stderr,
            width=width,
            theme=THEME,
            markup=False,
            highlight=False,
            no_color=plain or None,  # None: let Rich honour NO_COLOR itself
            color_system=None if plain else "auto",
            force_terminal=False if plain else None,
            force_interactive=False if plain else None,
            emoji=False,
        )
    )


def recording_console(width: int) -> Console:
    """An off-screen, full-colour console that records, for HTML and SVG exports."""
    return _safe(
        Console(
            file=StringIO(),
            width=width,
            theme=THEME,
            record=True,
            color_system="truecolor",
            force_terminal=True,
            markup=False,
            highlight=False,
            emoji=False,
        )
    )
