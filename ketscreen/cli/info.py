"""Commands that show reference information: resources."""

from __future__ import annotations

import os

import typer

from ketscreen.cli.app import app, handle_errors, warn


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
