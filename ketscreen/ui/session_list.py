"""The `ketscreen sessions` listing: newest first, every coloured cell also in words.

At 80 columns or more it is a table (the start time under the id, the counselor under
the client, so it fits); narrower, each session is a short block of lines, which also
reads better aloud.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ketscreen.core.model import Questionnaire
from ketscreen.errors import KetscreenError
from ketscreen.io.session_store import Summary
from ketscreen.ui.console import band_style

TABLE_MIN_WIDTH = 80


def _started(iso: str) -> str:
    """`2026-11-21T15:40:12Z` -> `2026-11-21 15:40` (UTC, said in the header)."""
    return iso[:16].replace("T", " ")


@lru_cache(maxsize=16)
def _recorded(questionnaire: str) -> Questionnaire | None:
    """The questionnaire a session was recorded with (`id version`); None when this
    ketscreen does not ship it."""
    from ketscreen.io.questionnaires import load_recorded

    instrument, _, version = questionnaire.partition(" ")
    try:
        return load_recorded(instrument, version)
    except KetscreenError:
        return None


def _style(questionnaire: str, band: str) -> str:
    """The band's colour as the result screen gives it; neutral for an unknown one."""
    recorded = _recorded(questionnaire)
    return band_style(recorded, band) if recorded is not None else "band.neutral"


def _label(summary: Summary, labels: Mapping[str, str]) -> str | None:
    """The band's words in the session's own questionnaire, else in `labels`."""
    recorded = _recorded(summary.questionnaire)
    bands = {b.id: b.label for b in recorded.band_rule.bands} if recorded is not None else {}
    return bands.get(summary.band or "") or labels.get(summary.band or "")


def _band(summary: Summary, labels: Mapping[str, str]) -> Text:
    """The band as the screens say it, with its id, as the report shows it:
    "Several warning signs (moderate)"."""
    if summary.band is None:
        return Text("no result yet", style="muted")
    label = _label(summary, labels)
    code = f"{summary.band}, at least" if summary.lower_bound else summary.band
    words = f"{label} ({code})" if label else code.replace("_", " ")
    text = Text(words, style=_style(summary.questionnaire, summary.band))
    if not summary.verified:
        # The file's own word for it, not checked against its answers.
        text.append(" (stored, unverified)", style="muted")
    return text


def _level(summary: Summary) -> Text:
    if summary.top_flag_level is None:
        return Text("none", style="muted")
    return Text(summary.top_flag_level.replace("_", " "), style=f"level.{summary.top_flag_level}")


def _table(sessions: Sequence[Summary], labels: Mapping[str, str]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, leading=1)
    table.add_column("Session\nstarted (UTC)", no_wrap=True)
    table.add_column("Client\ncounselor", overflow="fold")
    table.add_column("Status", no_wrap=True)
    table.add_column("Band")
    table.add_column("Top flag")
    for s in sessions:
        who = Text(s.client)
        who.append(f"\n{s.counselor or '-'}", style="muted")
        table.add_row(f"{s.id}\n{_started(s.started)}", who, s.status, _band(s, labels), _level(s))
    return table


def _block(s: Summary, labels: Mapping[str, str]) -> Text:
    text = Text(s.id, style="heading")
    text.append(f"  {s.status}\n")
    text.append(f"  client {s.client}, counselor {s.counselor or '-'}\n")
    text.append(f"  started {_started(s.started)} UTC\n")
    text.append("  band: ")
    text.append_text(_band(s, labels))
    text.append("\n  top flag: ")
    text.append_text(_level(s))
    return text


def render_sessions(
    sessions: Sequence[Summary], console: Console, labels: Mapping[str, str] | None = None
) -> None:
    """`labels`: band id -> the words the screens use ("Several warning signs"), for a
    session whose own questionnaire does not ship (its own words come first)."""
    labels = labels or {}
    if console.width >= TABLE_MIN_WIDTH:
        console.print(_table(sessions, labels))
    else:
        for s in sessions:
            console.print(_block(s, labels))
    count = len(sessions)
    console.print(Text(f"{count} session{'s' if count != 1 else ''}, newest first.", style="muted"))
