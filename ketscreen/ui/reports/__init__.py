"""Printable and machine-readable reports of an intake session.

A format is an object with a file `suffix` and `format(report) -> str`, chosen by a
member of `ReportFormat` through the exhaustive `match` in `formatter_for`. To add a
format: add a member, a module with its formatter, and one `case` arm; mypy then checks
the match is still exhaustive, and the tests that loop over every member cover it. A
formatter gets the whole `SessionReport`, including the `Session` (answers, notes,
events) and its questionnaire, so it needs nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Protocol

if TYPE_CHECKING:  # kept light: the CLI imports ReportFormat at start-up
    from ketscreen.io.resources import Region
    from ketscreen.io.sessions import Session
    from ketscreen.ui.reports.content import SessionReport


class ReportFormat(str, Enum):
    TEXT = "text"
    MARKDOWN = "md"
    HTML = "html"
    JSON = "json"
    FHIR = "fhir"


class Formatter(Protocol):
    suffix: str

    def format(self, report: SessionReport) -> str: ...  # pragma: no cover


def formatter_for(fmt: ReportFormat) -> Formatter:
    match fmt:
        case ReportFormat.TEXT:
            from ketscreen.ui.reports.as_text import TextFormat

            return TextFormat()
        case ReportFormat.MARKDOWN:
            from ketscreen.ui.reports.as_markdown import MarkdownFormat

            return MarkdownFormat()
        case ReportFormat.HTML:
            from ketscreen.ui.reports.as_html import HtmlFormat

            return HtmlFormat()
        case ReportFormat.JSON:
            from ketscreen.ui.reports.as_json import JsonFormat

            return JsonFormat()
        case ReportFormat.FHIR:
            from ketscreen.ui.reports.as_fhir import FhirFormat

            return FhirFormat()
        case _:
            assert_never(fmt)


def format_for_path(path: Path) -> ReportFormat | None:
    """The format an output file name asks for (`report.html` -> HTML), if any."""
    name = path.name.lower()
    # Longest suffix first, so that `r.fhir.json` is FHIR and `r.json` is JSON.
    by_length = sorted(ReportFormat, key=lambda fmt: -len(formatter_for(fmt).suffix))
    for fmt in by_length:
        if name.endswith(formatter_for(fmt).suffix):
            return fmt
    return {".markdown": ReportFormat.MARKDOWN, ".htm": ReportFormat.HTML}.get(path.suffix.lower())


HANDOUT_FORMATS = (ReportFormat.TEXT, ReportFormat.MARKDOWN, ReportFormat.HTML)


def render_report(
    session: Session,
    fmt: ReportFormat,
    region: Region | None = None,
    *,
    history: Sequence[Session] | None = None,
    handout: bool = False,
) -> str:
    """The report as text. Whatever the session file held, the text has no control
    characters: shown as `\\x1b` in the reports people read, JSON-escaped (the same
    data) in the JSON and FHIR ones. `history`: the client's sessions, for "Earlier
    results"; `handout`: the client's take-home sheet (text, md or html)."""
    from ketscreen.core.safe_text import json_safe, visible
    from ketscreen.ui.reports.content import build_report

    if handout and fmt not in HANDOUT_FORMATS:
        raise ValueError(f"no take-home sheet in {fmt.value}")
    report = build_report(session, region, history=history, handout=handout)
    text = formatter_for(fmt).format(report)
    return json_safe(text) if fmt in (ReportFormat.JSON, ReportFormat.FHIR) else visible(text)


def assert_never(value: NoReturn) -> NoReturn:
    """For exhaustive `match` statements: mypy proves each call unreachable."""
    raise AssertionError(f"unhandled case: {value!r}")
