"""Counselor commands that read saved sessions: `sessions` (a list) and `report`."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ketscreen.cli.app import app, handle_errors, say, warn
from ketscreen.errors import ExitCode, KetscreenError
from ketscreen.ui.reports import ReportFormat


class UsageError(KetscreenError):
    exit_code = ExitCode.USAGE


class ListFormat(str, Enum):
    TABLE = "table"
    JSON = "json"


ListFormatOption = Annotated[
    ListFormat,
    typer.Option(
        "--format", metavar="FORMAT", help="table or json. Default: table.", show_default=False
    ),
]
"""`--format table|json` of the listing commands (`sessions`, `list`)."""


def echo_json_list(entries: list[dict[str, object]]) -> None:
    """A listing as JSON on stdout, control characters escaped."""
    import json

    from ketscreen.core.safe_text import json_safe

    typer.echo(json_safe(json.dumps(entries, indent=2, ensure_ascii=False)))


@app.command("sessions")
@handle_errors
def list_sessions(
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            metavar="STATUS",
            help="Only sessions with this status: in-progress, completed, amended or stopped.",
            show_default=False,
        ),
    ] = None,
    client: Annotated[
        str | None,
        typer.Option(
            "--client",
            metavar="CLIENT",
            help="Only this client's sessions, newest first: the pseudonym or case number "
            "given to intake --client, matched exactly (C-0042 is not c-0042 or C-00420).",
            show_default=False,
        ),
    ] = None,
    fmt: ListFormatOption = ListFormat.TABLE,
) -> None:
    """List saved intake sessions, newest first.

    Each with its id, client, counselor, start time, status, band and most urgent flag
    level. --client lists one client's sessions over time; --status narrows either list.
    """
    from ketscreen.io.session_store import SessionStore
    from ketscreen.io.sessions import SessionError, Status, check_client
    from ketscreen.ui.console import make_console
    from ketscreen.ui.session_list import render_sessions

    statuses = [s.value for s in Status]
    if status is not None and status not in statuses:
        raise UsageError(f"--status must be one of {', '.join(statuses)}")
    if client is not None:
        try:  # tidied as intake tidies it, so the label typed there finds its sessions
            client = check_client(client)
        except SessionError as exc:
            raise UsageError(f"--client: {exc}") from None
    store = SessionStore(warn=warn)
    # Sessions recorded with a shipped questionnaire version are checked in full, so the
    # list shows what `report` computes; others show their stored result, unverified.
    found, broken = store.summaries()
    for problem in broken:
        warn(problem.reason)
    if status is not None:
        found = [s for s in found if s.status == status]
    if client is not None:
        found = [s for s in found if s.client == client]
    if fmt is ListFormat.JSON:
        echo_json_list([s.to_dict() for s in found])
        return
    if not found:
        which = f"{status} " if status else ""
        whose = f" for client {client}" if client is not None else ""
        say(f"No {which}sessions{whose} in {store.folder}.")
        return
    from ketscreen.io.questionnaires import load_questionnaire

    bands = load_questionnaire().band_rule.bands
    render_sessions(found, make_console(), {band.id: band.label for band in bands})


@app.command()
@handle_errors
def report(
    session: Annotated[
        str,
        typer.Argument(metavar="SESSION", help="A session id, or the path of a session file."),
    ],
    fmt: Annotated[
        ReportFormat | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="text, md (Markdown), html (prints on A4 and Letter), json, or fhir "
            "(an HL7 FHIR QuestionnaireResponse). "
            "Default: from the -o file name, else text.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write to this file (mode 0600) instead of standard output. Its name "
            "gives the format: .txt, .md, .html, .json or .fhir.json.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the -o file if it exists.")
    ] = False,
    region: Annotated[
        str | None,
        typer.Option(
            "--region",
            "-r",
            metavar="REGION",
            help="Whose helplines to list: US, UK, CA, AU, IE or INTL. Default: the region "
            "the intake used (else $KETSCREEN_REGION, your locale, or INTL).",
            show_default=False,
        ),
    ] = None,
    questionnaire: Annotated[
        Path | None,
        typer.Option(
            "--questionnaire",
            metavar="FILE",
            help="A questionnaire file to open the session with. Default: the shipped "
            "version the session was recorded under.",
            show_default=False,
        ),
    ] = None,
    handout: Annotated[
        bool,
        typer.Option(
            "--handout",
            help="The client's take-home sheet instead (text, md or html): one page in "
            "their words with their result, the next steps they chose, helplines and the "
            "disclaimer; no notes and nothing meant only for the counselor.",
        ),
    ] = False,
) -> None:
    """Print an intake session's report, to file.

    Flags first, then the result, the client's earlier results (the other sessions of
    the same client in the sessions folder, with the change since the last one), every
    answer, the notes, any changes, guidance, helplines and the disclaimer.
    """
    from ketscreen.io.atomic import check_writable_target, write_text_atomic
    from ketscreen.io.questionnaires import load_questionnaire
    from ketscreen.io.resources import choose_region, load_resources
    from ketscreen.io.session_store import SessionStore
    from ketscreen.ui.reports import HANDOUT_FORMATS, format_for_path, render_report

    if output is not None:
        check_writable_target(output, force=force)
        if fmt is None and format_for_path(output) is None:
            raise UsageError(
                f"cannot tell the report format from the name {output.name!r}: end it in "
                ".txt, .md, .html, .json or .fhir.json, or give --format"
            )
    chosen = fmt or (format_for_path(output) if output else None) or ReportFormat.TEXT
    if handout and chosen not in HANDOUT_FORMATS:
        raise UsageError(f"the take-home sheet (--handout) is text, md or html, not {chosen.value}")
    given = load_questionnaire(questionnaire) if questionnaire is not None else None
    store = SessionStore(warn=warn)
    loaded = store.load(session, given)
    history = None
    if not handout and chosen is not ReportFormat.FHIR:
        history, broken = store.client_sessions(loaded.client)
        for problem in broken:
            warn(f"left out of the earlier results: {problem.reason}")
    # The helplines of the intake's own region, unless --region says otherwise.
    where = choose_region(region if region is not None else loaded.region, os.environ)
    if where.warning:
        warn(where.warning)
    text = render_report(
        loaded, chosen, load_resources()[where.code], history=history, handout=handout
    )
    if output is None:
        typer.echo(text, nl=False)
        return
    write_text_atomic(output, text, force=force)
    say(f"Report written to {output} (readable only by you).")
