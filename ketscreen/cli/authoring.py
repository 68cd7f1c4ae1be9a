"""Commands for questionnaire authors: validate, show."""

from __future__ import annotations

from pathlib import Path

import typer

from ketscreen.cli.app import VersionOption, app, handle_errors
from ketscreen.cli.sessions_cmd import UsageError

PATH_ARG = typer.Argument(
    None,
    help="A questionnaire (or resources) YAML file. Default: the shipped questionnaires.",
    show_default=False,
)


@app.command()
@handle_errors
def validate(path: Path | None = PATH_ARG, version: VersionOption = None) -> None:
    """Check a questionnaire file: schema, references, bands, and its own examples.

    Exit 0 when it is valid, 1 with every problem as file:line:column otherwise.
    With no PATH, checks every shipped questionnaire version and the resources;
    --version checks one shipped version.
    """
    from ketscreen.ui.authoring import validate_files

    if path is not None and version is not None:
        raise UsageError("give a PATH or --version, not both")
    for line in validate_files(path, version=version):
        typer.echo(line)


@app.command()
@handle_errors
def show(path: Path | None = PATH_ARG, version: VersionOption = None) -> None:
    """List sections, items, codes, weights, skip rules, scores, bands and flags.

    Anyone can see exactly how a result is made. Default: the newest shipped version.
    """
    from ketscreen.io.questionnaires import load_questionnaire
    from ketscreen.ui.authoring import render_questionnaire
    from ketscreen.ui.console import make_console

    render_questionnaire(load_questionnaire(path, version=version), make_console())
