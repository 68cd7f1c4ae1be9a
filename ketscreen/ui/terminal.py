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
    """

    def __init__(
        self,
        console: Console,
        stream: IO[str],
        *,
        plain: bool,
        echo: bool | None = None,
    ) -> None:
        self.console = console
        self.stream = stream
        self.plain = plain
        self.echo = not _isatty(stream) if echo is None else echo

    def print(self, *renderables: RenderableType) -> None:
        self.console.print(*renderables)

    def new_screen(self) -> None:
        """Start a screen: a blank line, and in a rich terminal a cleared screen."""
        if not self.plain:
            self.console.clear()  # does nothing unless the console is a real terminal
        self.console.print()

    def ask(self, prompt: str) -> str:
        """Show `prompt`, read one line; InputEnded at end of input. Ctrl-C propagates."""
        self.console.print(Text(f"{prompt} ", style="heading"), end="")
        line = self.stream.readline()
        if not line:
            self.console.print()
            raise InputEnded()
        line = line.rstrip("\r\n")
        if self.echo:
            self.console.print(Text(line), highlight=False)
        return line
