"""Commands that show reference information: resources, list (the installed instruments)."""

from __future__ import annotations

import os

import typer

from ketscreen.cli.app import app, handle_errors, warn
from ketscreen.cli.sessions_cmd import ListFormat, ListFormatOption, echo_json_list
from ketscreen.errors import KetscreenError


@app.command()
@handle_errors
def resources(
    region: str | None = typer.Option(
        None,
        "--region",
        "-r",
        metavar="REGION",
        help="US, UK, CA, AU, IE or INTL. Default: $KETSCREEN_REGION, else your locale, else INTL.",
        show_default=False,
    ),
) -> None:
    """Show a region's helplines and services.

    Crisis lines, drug services, urgent medical help and the emergency number, with
    their hours and the date each was checked.
    """
    from ketscreen.io.resources import choose_region, load_resources
    from ketscreen.ui.console import make_console
    from ketscreen.ui.resources_view import render_region

    choice = choose_region(region, os.environ)
    if choice.warning:
        warn(choice.warning)
    render_region(load_resources()[choice.code], choice, make_console())


@app.command("list")
@handle_errors
def list_instruments(
    fmt: ListFormatOption = ListFormat.TABLE,
) -> None:
    """List the installed instruments and their versions.

    Each shipped questionnaire version with its title; an instrument's newest version is
    marked (default): new screenings use it, while saved sessions and records keep the
    version they were made with.
    """
    from ketscreen.io.files import data_dir
    from ketscreen.ui.instrument_list import installed, render_instruments

    rows = installed()
    if not rows:
        raise KetscreenError(
            f"no questionnaire ships with this ketscreen (looked in {data_dir()}); "
            "reinstall ketscreen"
        )
    if fmt is ListFormat.JSON:
        echo_json_list([row.to_dict() for row in rows])
        return
    from ketscreen.ui.console import make_console

    render_instruments(rows, make_console())
