"""Console construction in one place. Consoles are always passed in, never global."""

from __future__ import annotations

from io import StringIO
from typing import IO

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
        "muted": "dim",
        "heading": "bold",
    }
)


def make_console(
    file: IO[str] | None = None,
    *,
    stderr: bool = False,
    width: int | None = None,
    plain: bool = False,
) -> Console:
    """A console for output. `plain` means no colour, no styling and no cursor tricks."""
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
