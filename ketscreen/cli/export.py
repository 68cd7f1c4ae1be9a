"""`ketscreen export fhir`: the questionnaire for other systems."""

from __future__ import annotations

from pathlib import Path

import typer

from ketscreen.cli.app import VersionOption, app, handle_errors

export_app = typer.Typer(
    help="Export the questionnaire for other systems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
)
app.add_typer(export_app, name="export")


PATH_ARG = typer.Argument(
    None,
    metavar="[FILE]",
    help="A questionnaire YAML file. Default: the newest shipped version (or --version).",
    show_default=False,
)
OUTPUT_OPT = typer.Option(
    None, "--output", "-o", metavar="FILE", help="Write to this file instead of standard output."
)
FORCE_OPT = typer.Option(False, "--force", help="Overwrite the output file if it exists.")


@export_app.command("fhir")
@handle_errors
def export_fhir(
    path: Path | None = PATH_ARG,
    output: Path | None = OUTPUT_OPT,
    force: bool = FORCE_OPT,
    version: VersionOption = None,
) -> None:
    """Print the questionnaire as a FHIR R4 Questionnaire (JSON).

    It follows the HL7 Structured Data Capture (SDC) style. Clinic systems and SDC form
    fillers can show it, skip logic and scores included.
    Answers exported with `--format fhir` refer to it by its url and version.
    """
    from ketscreen.io.atomic import check_writable_target, write_text_atomic
    from ketscreen.io.fhir import dumps, questionnaire_to_fhir
    from ketscreen.io.questionnaires import load_questionnaire

    if output is not None:
        check_writable_target(output, force=force)
    text = dumps(questionnaire_to_fhir(load_questionnaire(path, version=version)))
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_text_atomic(output, text, force=force)
        typer.echo(f"Wrote {output}", err=True)
