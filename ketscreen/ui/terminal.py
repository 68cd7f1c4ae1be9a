"""The terminal a screen talks to: an output console and an input stream, both passed in.

Input is line based (type, then Enter) so the same screens work in a full terminal, in
plain mode for screen readers, through a pipe, and in tests that feed a `StringIO`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO

from rich.console import Console, RenderableType
from rich.text import Text

from ketscreen.errors import KetscreenError


class InputEnded(KetscreenError):
    """The input stream ended while a question was waiting for an answer."""

    def __init__(self, message: str = "input ended before the questions were finished") -> None:
        super().__init__(message)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or unusual streams
        return False


def interactive(stdin: IO[str], stdout: IO[str]) -> bool:
    """Both ends are a terminal: a person is reading, so long screens pause."""
    return _isatty(stdin) and _isatty(stdout)


def want_plain(option: bool, env: Mapping[str, str], stdin: IO[str], stdout: IO[str]) -> bool:
    """Plain mode: asked for, NO_COLOR set (non-empty), TERM=dumb, or not a terminal."""
    return (
        option
        or env.get("NO_COLOR", "") != ""
        or env.get("TERM", "") == "dumb"
        or not _isatty(stdin)
        or not _isatty(stdout)
    )


class Terminal:
    """Where screens are shown and answers read.

    `plain` screens use no boxes, bars, colour or cursor movement. `echo` writes each
    line read back to the console, so that a transcript (a pipe, a test) shows what was
    typed; a real terminal echoes by itself, so it is off when the input is a terminal.

    `paged`: long screens (the review, the result) are shown a page at a time, pausing
    for Enter; on by default when the console is a terminal. Plain mode on a terminal
    pauses at the same places (`ketscreen run` passes `paged=True` when both input and
    output are terminals); through a pipe it never pauses. `height` fixes the page
    height (tests); by default it is the terminal's.
    """

    def __init__(
        self,
        console: Console,
        stream: IO[str],
        *,
        plain: bool,
        echo: bool | None = None,
        paged: bool | None = None,
        height: int | None = None,
    ) -> None:
        self.console = console
        self.stream = stream
        self.plain = plain
        self.echo = not _isatty(stream) if echo is None else echo
        self.paged = console.is_terminal if paged is None else paged
        self._height = height

    @property
    def page_height(self) -> int | None:
        """Lines on one page, or None when screens are not paged."""
        if not self.paged:
            return None
        return max(8, self._height or self.console.height)

    def print(self, *renderables: RenderableType) -> None:
        self.console.print(*renderables)

    @property
    def screen_start_lines(self) -> int:
        """Lines `new_screen` prints: none on a cleared terminal, else one blank line."""
        return 0 if self._clears else 1

    @property
    def _clears(self) -> bool:
        return not self.plain and self.console.is_terminal

    def new_screen(self) -> None:
        """Start a screen: in a rich terminal a cleared screen, else a blank line (so that
        screens in a transcript or a plain stream stay apart)."""
        if self._clears:
            self.console.clear()
        else:
            self.console.print()

    def ask(self, prompt: str) -> str:
        """Show `prompt`, read one line; InputEnded at end of input. Ctrl-C propagates."""
        self.console.print(Text(f"{prompt} ", style="heading"), end="")
        try:
            line = self.stream.readline()
        except KeyboardInterrupt:
            self.console.print()  # end the prompt's line: what follows starts on its own
            raise
        if not line:
            self.console.print()
            raise InputEnded()
        line = line.rstrip("\r\n")
        if self.echo:
            self.console.print(Text(line), highlight=False)
        return line
