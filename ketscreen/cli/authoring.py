"""Commands for questionnaire authors: validate, show."""

from __future__ import annotations

from pathlib import Path

import typer

from ketscreen.cli.app import app, handle_errors, warn

PATH_ARG = typer.Argument(
    None,
    metavar="[FILE]",
    help="A questionnaire (or resources) YAML file. Default: the built-in ketamine questionnaire.",
    show_default=False,
)


@app.command()
@handle_errors
def validate(path: Path | None = PATH_ARG) -> None:
    """Check a questionnaire file and its worked examples.

    Checks the schema, every reference, the bands and the file's own examples. Exit 0
    when it is valid, 1 with every problem as file:line:column otherwise.
    Advice that is not an error, such as a symptom question whose first answer is not
    "no", is a warning on stderr. With no PATH, checks the built-in questionnaire and
    resources.
    """
    from ketscreen.ui.authoring import validate_files

    for line in validate_files(path, warn):
        typer.echo(line)


@app.command()
@handle_errors
def show(path: Path | None = PATH_ARG) -> None:
    """Show how a result is made, item by item.

    Lists the sections, items, codes, weights, skip rules, scores, bands and flags, so
    that anyone can see exactly how a result is made.
    """
    from ketscreen.io.questionnaires import load_questionnaire
    from ketscreen.ui.authoring import render_questionnaire
    from ketscreen.ui.console import make_console

    render_questionnaire(load_questionnaire(path), make_console())
