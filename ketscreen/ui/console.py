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
from typing import IO, TYPE_CHECKING, cast

from rich.console import Console, ConsoleOptions, ConsoleRenderable, RenderHook
from rich.segment import Segment
from rich.theme import Theme

from ketscreen.core.safe_text import CONTROL, visible

if TYPE_CHECKING:
    from ketscreen.core.model import Questionnaire

THEME = Theme(
    {
        # Bands are styled by their kind and place (`band_style`), never by their id:
        # range bands from the lowest to the highest score, green to red.
        "band.range.0": "bold green",
        "band.range.1": "bold yellow",
        "band.range.2": "bold dark_orange",
        "band.range.3": "bold red",
        "band.outcome": "bold cyan",
        "band.neutral": "bold",
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


_RANGE_STYLES = 4


def band_style(questionnaire: Questionnaire, band_id: str) -> str:
    """The theme style of a band, from the questionnaire's shape alone.

    Range bands go from green (the lowest scores) to red (the highest), spread over the
    four range styles when there are more or fewer than four. A single range band (a
    total with no cut-off) is neutral, as are the band for too few answers and an
    unknown id; a band chosen by a condition (`when:`) is an outcome, in cyan.
    """
    bands = questionnaire.band_rule.bands
    ranged = sorted((b for b in bands if b.low is not None), key=lambda b: b.low or 0)
    band = next((b for b in bands if b.id == band_id), None)
    if band is None or band.incomplete:
        return "band.neutral"
    if band.when is not None:
        return "band.outcome"
    if len(ranged) < 2:
        return "band.neutral"
    place = [b.id for b in ranged].index(band.id)
    return f"band.range.{round(place * (_RANGE_STYLES - 1) / (len(ranged) - 1))}"


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
