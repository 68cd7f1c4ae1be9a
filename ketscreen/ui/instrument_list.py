"""The `ketscreen list` listing: every shipped instrument version, the default marked.

Everything shown comes from the questionnaire files themselves (id, version, title,
hash), found by the registry in `ketscreen.io.questionnaires`; nothing here names an
instrument. The default for new screenings is an instrument's newest version, said in
words in the table, not by colour or position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ketscreen.io.questionnaires import instruments, load_questionnaire, versions

DEFAULT_MARK = "(default)"
FOOTNOTE = (
    f"{DEFAULT_MARK}: the newest version, used for new screenings. Saved sessions and "
    "records are scored with the version they were made with."
)


@dataclass(frozen=True)
class Installed:
    """One shipped questionnaire version as `ketscreen list` shows it."""

    instrument: str
    version: str
    title: str
    sha256: str
    default: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "version": self.version,
            "title": self.title,
            "default": self.default,
            "sha256": self.sha256,
        }


def installed() -> list[Installed]:
    """Every shipped version, by instrument, oldest first; each file loaded and checked
    (a shipped file that does not load is the error its loading raises)."""
    found = []
    for instrument in instruments():
        known = versions(instrument)
        for entry in known:
            loaded = load_questionnaire(instrument=entry.id, version=entry.version)
            found.append(
                Installed(
                    instrument=entry.id,
                    version=entry.version,
                    title=loaded.title,
                    sha256=loaded.sha256,
                    default=entry == known[-1],
                )
            )
    return found


def render_instruments(rows: Sequence[Installed], console: Console) -> None:
    """A table: instrument, version (the default marked in words), title."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Instrument", overflow="fold")
    table.add_column("Version", no_wrap=True)
    table.add_column("Title", overflow="fold")
    for row in rows:
        version = Text(row.version)
        if row.default:
            version.append(f" {DEFAULT_MARK}", style="heading")
        table.add_row(row.instrument, version, row.title)
    console.print(table)
    count = len(rows)
    names = len({row.instrument for row in rows})
    console.print(
        Text(
            f"{names} instrument{'s' if names != 1 else ''}, "
            f"{count} version{'s' if count != 1 else ''}. {FOOTNOTE}",
            style="muted",
        )
    )
