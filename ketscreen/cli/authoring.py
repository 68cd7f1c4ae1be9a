"""Commands for questionnaire authors: validate, show."""

from __future__ import annotations

from pathlib import Path

import typer

from ketscreen.cli.app import InstrumentOption, VersionOption, app, handle_errors, warn
from ketscreen.cli.sessions_cmd import UsageError

PATH_ARG = typer.Argument(
    None,
    metavar="[FILE]",
    help="A questionnaire (or resources) YAML file. Default: the shipped questionnaires.",
    show_default=False,
)


@app.command()
@handle_errors
def validate(
    path: Path | None = PATH_ARG,
    version: VersionOption = None,
    instrument: InstrumentOption = None,
) -> None:
    """Check a questionnaire file and its worked examples.

    Checks the schema, every reference, the bands and the file's own examples. Exit 0
    when it is valid, 1 with every problem as file:line:column otherwise.
    Advice that is not an error, such as a symptom question whose first answer is not
    "no", is a warning on stderr. With no FILE, checks every shipped questionnaire
    version and the resources; --instrument checks the newest version of one
    instrument, --version one shipped version.
    """
    from ketscreen.core.safe_text import visible
    from ketscreen.io.questionnaires import check_instrument
    from ketscreen.ui.authoring import validate_files

    if path is not None and version is not None:
        raise UsageError("give a FILE or --version, not both")
    if path is not None:
        check_instrument(path, None, instrument)
    for line in validate_files(path, warn, instrument=instrument, version=version):
        typer.echo(visible(line))


@app.command()
@handle_errors
def show(
    path: Path | None = PATH_ARG,
    version: VersionOption = None,
    instrument: InstrumentOption = None,
) -> None:
    """Show how a result is made, item by item.

    Lists the sections, items, codes, weights, skip rules, scores, bands and flags, so
    that anyone can see exactly how a result is made. Default: the newest shipped
    version of the instrument (or --version).
    """
    from ketscreen.io.questionnaires import load_questionnaire
    from ketscreen.ui.authoring import render_questionnaire
    from ketscreen.ui.console import make_console

    q = load_questionnaire(path, instrument=instrument, version=version)
    render_questionnaire(q, make_console())
