"""`ketscreen intake`: a counselor runs the screener with a client, saved as a session."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from ketscreen.cli.app import (
    PlainOption,
    QuestionnaireOption,
    RegionOption,
    app,
    handle_errors,
    say,
    warn,
)
from ketscreen.cli.sessions_cmd import UsageError
from ketscreen.errors import ExitCode, KetscreenError


@app.command()
@handle_errors
def intake(
    client: Annotated[
        str | None,
        typer.Option(
            "--client",
            metavar="ID",
            help="Start a session for this client: a pseudonym or case number, not a name.",
            show_default=False,
        ),
    ] = None,
    counselor: Annotated[
        str | None,
        typer.Option(
            "--counselor",
            metavar="NAME",
            help="Your name, recorded in the session.",
            show_default=False,
        ),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            metavar="ID",
            help="Go on with an unfinished session at its first unanswered question.",
            show_default=False,
        ),
    ] = None,
    amend: Annotated[
        str | None,
        typer.Option(
            "--amend",
            metavar="ID",
            help="Change answers of a completed session (needs --reason).",
            show_default=False,
        ),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            metavar="TEXT",
            help="Why answers are amended; recorded with every change.",
            show_default=False,
        ),
    ] = None,
    region: RegionOption = None,
    plain: PlainOption = False,
    questionnaire: QuestionnaireOption = None,
    instruments: Annotated[
        list[str] | None,
        typer.Option(
            "--instrument",
            metavar="ID",
            help="Which installed instrument (see `ketscreen list`). Default: ketamine. "
            "Give it more than once for a battery: the instruments in that order, in one "
            "sitting, with one review and one result screen.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the screener with a client, saved after every answer.

    Starts with a reminder to explain the limits of confidentiality. a adds a note to the
    question on screen; general notes come at the end. q stops (saved as stopped, exit
    0). Ctrl-C saves the session as in-progress, prints the command to resume it and
    exits 130. End of input saves it too and exits 1.
    """
    from ketscreen.io.atomic import OutputError
    from ketscreen.io.questionnaires import load_questionnaire
    from ketscreen.io.resources import choose_region, load_resources
    from ketscreen.io.session_store import SessionChanged, SessionStore
    from ketscreen.io.sessions import check_client, check_counselor
    from ketscreen.ui.battery_intake import BatteryFlow
    from ketscreen.ui.console import make_console
    from ketscreen.ui.intake import continue_command
    from ketscreen.ui.terminal import InputEnded, Terminal, interactive, want_plain

    ways = [
        name
        for name, value in (("--client", client), ("--resume", resume), ("--amend", amend))
        if value is not None
    ]
    if len(ways) != 1:
        raise UsageError(
            "give one of --client ID (a new session), --resume ID or --amend ID --reason TEXT"
        )
    if (reason is not None) != (amend is not None):
        raise UsageError("--reason goes with --amend, and --amend needs --reason TEXT")
    if counselor is not None and client is None:
        raise UsageError("--counselor is recorded when a session starts: use it with --client")
    if instruments and client is None:
        raise UsageError(
            "--instrument chooses the questionnaire of a new session: use it with --client "
            "(a saved session keeps its own)"
        )
    try:
        if client is not None:
            client = check_client(client)
            counselor = check_counselor(counselor)
    except KetscreenError as exc:
        raise UsageError(str(exc)) from None

    choice = choose_region(region, os.environ)
    if choice.warning:
        warn(choice.warning)
    # New sessions use the newest version of the instrument (or the file given); a
    # resumed or amended session is opened with the one it was recorded under.
    chosen: list[str | None] = [*dict.fromkeys(instruments)] if instruments else [None]
    if instruments and len(chosen) != len(instruments):
        raise UsageError("an --instrument is given twice; name each instrument once")
    if len(chosen) > 1 and questionnaire is not None:
        raise UsageError("a battery uses installed instruments: leave out --questionnaire")
    parts = tuple(load_questionnaire(questionnaire, instrument=i) for i in chosen)
    loaded = parts[0]
    given = loaded if questionnaire is not None else None
    is_plain = want_plain(plain, os.environ, sys.stdin, sys.stdout)
    term = Terminal(
        make_console(plain=is_plain),
        sys.stdin,
        plain=is_plain,
        paged=interactive(sys.stdin, sys.stdout),
    )
    regions = load_resources()
    # One intake at a time per session: this store holds a lock on the session it
    # creates or opens until the command ends (the OS drops it if the process dies).
    store = SessionStore(warn=warn, exclusive=True)
    flow = BatteryFlow(  # one instrument, or a battery; any battery is resumed whole
        term,
        store,
        loaded,
        regions[choice.code],
        choice,
        regions=regions,
        given=given,
        parts=parts if len(parts) > 1 else (),
    )
    try:
        if client is not None:
            flow.start(client, counselor)
        elif resume is not None:
            flow.resume(resume)
        else:
            assert amend is not None and reason is not None
            flow.amend(amend, reason)
    except (KeyboardInterrupt, InputEnded) as stop:
        session = flow.save_interrupted()
        what = "Interrupted" if isinstance(stop, KeyboardInterrupt) else "Input ended"
        if session is None:
            left = "Nothing was saved" if client is not None else "The session is as it was"
            say(f"\n{what}. {left}.")
        else:
            say(
                f"\n{what}. Session {session.id} is saved as {session.status.value} with "
                f"{len(session.answers)} answers. To go on: {continue_command(session)}"
            )
        code = ExitCode.INTERRUPTED if isinstance(stop, KeyboardInterrupt) else ExitCode.ERROR
        raise typer.Exit(code) from None
    except (OutputError, SessionChanged) as exc:
        if flow.session is None:
            raise
        raise type(exc)(
            f"{exc}. Session {flow.session.id} keeps every answer saved before this one; "
            f"to go on once it can be saved: {continue_command(flow.session)}"
        ) from None
    finally:
        store.close()
