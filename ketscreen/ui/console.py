"""Console construction in one place. Consoles are always passed in, never global."""

from __future__ import annotations

import io
import sys
from io import StringIO
from typing import IO, cast

from rich.console import Console
from rich.theme import Theme

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
    return Console(
        file=file,
        stderr=stderr,
        width=width,
        theme=THEME,
        highlight=False,
        no_color=plain or None,  # None: let Rich honour NO_COLOR itself
        color_system=None if plain else "auto",
        force_terminal=False if plain else None,
        force_interactive=False if plain else None,
        emoji=False,
    )


def recording_console(width: int) -> Console:
    """An off-screen, full-colour console that records, for HTML and SVG exports."""
    return Console(
        file=StringIO(),
        width=width,
        theme=THEME,
        record=True,
        color_system="truecolor",
        force_terminal=True,
        highlight=False,
        emoji=False,
    )
