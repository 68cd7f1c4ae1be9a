"""Drive the screener with typed lines and capture what a person would see."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from io import StringIO

from ketscreen.core.interview import Interview
from ketscreen.core.model import DECLINED, ItemType, Questionnaire
from ketscreen.core.scoring import Result, asked_items
from ketscreen.io.resources import choose_region, load_resources
from ketscreen.ui.console import TrimmedLines, make_console
from ketscreen.ui.safety import CRISIS_LEVELS
from ketscreen.ui.screener import run_screener
from ketscreen.ui.terminal import InputEnded, Terminal

SCORED_AT = "2026-11-21T12:00:00Z"


def tidy(text: str) -> str:
    """Trailing spaces removed from every line (Rich pads table cells with them)."""
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


@dataclass
class Screen:
    out: str
    result: Result | None
    input_ended: bool = False


def terminal(lines: Iterable[str], *, width: int = 80, plain: bool = True) -> Terminal:
    """A deterministic terminal: no colour (Rich renders into a StringIO), fixed width."""
    console = make_console(StringIO(), width=width, plain=plain)
    assert console.color_system is None and not console.is_terminal
    return Terminal(console, StringIO("".join(f"{line}\n" for line in lines)), plain=plain)


def output(term: Terminal) -> str:
    file = term.console.file
    if isinstance(file, TrimmedLines):  # plain mode trims spaces at line ends
        file.flush()
        file = file.wrapped
    assert isinstance(file, StringIO)
    return tidy(file.getvalue())


def run(
    questionnaire: Questionnaire,
    lines: Iterable[str],
    *,
    width: int = 80,
    plain: bool = True,
    region: str = "UK",
) -> Screen:
    """Run the whole screener; `input_ended` when the lines ran out before the result."""
    term = terminal(lines, width=width, plain=plain)
    try:
        result = run_screener(
            term,
            questionnaire,
            load_resources()[region],
            choose_region(region, {}),
            clock=lambda: SCORED_AT,
        )
    except InputEnded as exc:
        assert str(exc) == "input ended before the check was finished. Nothing was saved."
        return Screen(output(term), None, input_ended=True)
    return Screen(output(term), result)


def keys_for(questionnaire: Questionnaire, answers: Mapping[str, object]) -> list[str]:
    """The lines a person types to give `answers`, question by question, in the order asked.

    Codes become choice numbers ("1 3" for several), `declined` becomes `s`. After an
    answer that brings up the crisis panel, an empty line (Enter) goes on.
    """
    typed: list[str] = []
    given: dict[str, object] = {}
    for item_id in asked_items(questionnaire, answers):  # type: ignore[arg-type]
        item = questionnaire.items[item_id]
        value = given[item_id] = answers[item_id]
        if value == DECLINED:
            typed.append("s")
            continue
        codes = list(value) if isinstance(value, (list, tuple)) else [value]
        assert item.type is ItemType.MULTI or len(codes) == 1
        typed.append(" ".join(str(item.codes.index(code) + 1) for code in codes))
        flags = Interview(questionnaire, given).flags()
        if any(f.item == item_id and f.level in CRISIS_LEVELS for f in flags):
            typed.append("")
    return typed
