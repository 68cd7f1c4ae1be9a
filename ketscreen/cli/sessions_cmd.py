"""Counselor commands that read saved sessions: `sessions` (a list) and `report`."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ketscreen.cli.app import app, handle_errors, warn
from ketscreen.errors import ExitCode, KetscreenError
from ketscreen.ui.reports import ReportFormat


class UsageError(KetscreenError):
    exit_code = ExitCode.USAGE


class ListFormat(str, Enum):
    TABLE = "table"
    JSON = "json"


@app.command("sessions")
@handle_errors
def list_sessions(
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only sessions with this status: in-progress, completed, amended or stopped.",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[ListFormat, typer.Option("--format", help="A table, or JSON.")] = (
        ListFormat.TABLE
    ),
) -> None:
    """List saved intake sessions, newest first: id, client, counselor, started, status,
    band and the most urgent flag level."""
    import json

    from ketscreen.io.questionnaires import load_questionnaire
    from ketscreen.io.session_store import SessionStore
    from ketscreen.io.sessions import Status
    from ketscreen.ui.console import make_console
    from ketscreen.ui.session_list import render_sessions

    statuses = [s.value for s in Status]
    if status is not None and status not in statuses:
        raise UsageError(f"--status must be one of {', '.join(statuses)}")
    store = SessionStore(warn=warn)
    # Sessions recorded with the built-in questionnaire are checked in full, so the list
    # shows what `report` computes; others show their stored result, marked unverified.
    found, broken = store.summaries([load_questionnaire()])
    for problem in broken:
        warn(problem.reason)
    if status is not None:
        found = [s for s in found if s.status == status]
    if fmt is ListFormat.JSON:
        typer.echo(json.dumps([s.to_dict() for s in found], indent=2, ensure_ascii=False))
        return
    if not found:
        which = f"{status} " if status else ""
        typer.echo(f"No {which}sessions in {store.folder}.", err=True)
        return
    render_sessions(found, make_console())


@app.command()
@handle_errors
def report(
    session: Annotated[
        str,
        typer.Argument(metavar="SESSION|ID", help="A session id, or the path of a session file."),
    ],
    fmt: Annotated[
        ReportFormat | None,
        typer.Option(
            "--format",
            "-f",
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
            help="Write to this file (mode 0600) instead of standard output.",
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
            help="Whose helplines to list: US, UK, CA, AU, IE or INTL. "
            "Default: $KETSCREEN_REGION, else your locale, else INTL.",
            show_default=False,
        ),
    ] = None,
    questionnaire: Annotated[
        Path | None,
        typer.Option(
            "--questionnaire",
            help="The questionnaire file the session was recorded with. Default: the built-in one.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print a report of an intake session for the counselor to file: flags first, the
    result, every answer, notes, changes, guidance, helplines and the disclaimer."""
    from ketscreen.io.atomic import check_writable_target, write_text_atomic
    from ketscreen.io.questionnaires import load_questionnaire
    from ketscreen.io.resources import choose_region, load_resources
    from ketscreen.io.session_store import SessionStore
    from ketscreen.ui.reports import format_for_path, render_report

    if output is not None:
        check_writable_target(output, force=force)
    chosen = fmt or (format_for_path(output) if output else None) or ReportFormat.TEXT
    loaded = SessionStore(warn=warn).load(session, load_questionnaire(questionnaire))
    # The helplines of the intake's own region, unless --region says otherwise.
    where = choose_region(region if region is not None else loaded.region, os.environ)
    if where.warning:
        warn(where.warning)
    text = render_report(loaded, chosen, load_resources()[where.code])
    if output is None:
        typer.echo(text, nl=False)
        return
    write_text_atomic(output, text, force=force)
    typer.echo(f"Report written to {output} (readable only by you).", err=True)
