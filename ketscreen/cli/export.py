"""`ketscreen export fhir` and `export sql`: the questionnaire for other systems."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ketscreen.cli.app import InstrumentOption, VersionOption, app, handle_errors, say
from ketscreen.cli.sessions_cmd import UsageError
from ketscreen.io.batch.formats import SqlDialect

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
    help="A questionnaire YAML file. Default: the newest shipped version of the instrument "
    "(or --version).",
    show_default=False,
)
OUTPUT_OPT = typer.Option(
    None, "--output", "-o", metavar="FILE", help="Write to this file instead of standard output."
)
FORCE_OPT = typer.Option(
    False, "--force", help="Overwrite the output file (or the files in --folder) if they exist."
)


BUNDLE_OPT = typer.Option(
    False,
    "--bundle",
    help="The whole package as one collection Bundle: the Questionnaire, a CodeSystem "
    "and a ValueSet for each of its code systems, and the StructureDefinition of the "
    "scoring-provenance extension.",
)
FOLDER_OPT = typer.Option(
    None,
    "--folder",
    metavar="DIR",
    help="Write the package as one file per resource (Type-id.json) into this folder, "
    "created if needed.",
    show_default=False,
)


@export_app.command("fhir")
@handle_errors
def export_fhir(
    path: Path | None = PATH_ARG,
    output: Path | None = OUTPUT_OPT,
    force: bool = FORCE_OPT,
    version: VersionOption = None,
    as_bundle: bool = BUNDLE_OPT,
    folder: Path | None = FOLDER_OPT,
    instrument: InstrumentOption = None,
) -> None:
    """Print the questionnaire as a FHIR R4 Questionnaire (JSON).

    It follows the HL7 Structured Data Capture (SDC) style. Clinic systems and SDC form
    fillers can show it, skip logic and scores included.
    Answers exported with `--format fhir` refer to it by its url and version.
    With `--bundle` or `--folder`, the publishable package: also the code systems,
    value sets and extension definitions, so a terminology-aware validator can check it.
    A released version carries its release date; any other file is marked experimental.
    """
    from ketscreen.io.atomic import check_writable_target, ensure_private_dir, write_text_atomic
    from ketscreen.io.fhir import dumps, questionnaire_to_fhir
    from ketscreen.io.fhir.package import file_name, package, package_bundle
    from ketscreen.io.questionnaires import load_questionnaire, release_of

    if folder is not None and (as_bundle or output is not None):
        raise UsageError(
            "--folder writes one file per resource; leave out --bundle and --output, "
            "or leave out --folder"
        )
    if output is not None:
        check_writable_target(output, force=force)
    q = load_questionnaire(path, instrument=instrument, version=version)
    release = release_of(q)
    date = release.date if release is not None else None
    if folder is not None:
        resources = package(q, date)
        targets = [(folder / file_name(r), r) for r in resources]
        for target, _ in targets:  # every clash is reported before anything is written
            check_writable_target(target, force=force)
        ensure_private_dir(folder)
        for target, resource in targets:
            write_text_atomic(target, dumps(resource), force=force)
        say(f"Wrote {len(targets)} resources to {folder}")
        return
    resource = (
        package_bundle(package(q, date)) if as_bundle else questionnaire_to_fhir(q, date=date)
    )
    text = dumps(resource)
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_text_atomic(output, text, force=force)
        typer.echo(f"Wrote {output}", err=True)


@export_app.command("sql")
@handle_errors
def export_sql(
    path: Path | None = PATH_ARG,
    dialect: Annotated[
        SqlDialect | None,
        typer.Option(
            "--dialect",
            "-d",
            metavar="DIALECT",
            help="duckdb, sqlite, postgres, spark or bigquery (required).",
            show_default=False,
        ),
    ] = None,
    table: Annotated[
        str,
        typer.Option(
            "--table",
            metavar="NAME",
            help="The table (or view) of responses to score: respondent_id and one text "
            "column per item id. schema.table works too.",
        ),
    ] = "responses",
    view: Annotated[
        str | None,
        typer.Option(
            "--view",
            metavar="NAME",
            help="Print CREATE VIEW NAME AS the query, instead of the query alone.",
            show_default=False,
        ),
    ] = None,
    output: Path | None = OUTPUT_OPT,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the output file if it exists.")
    ] = False,
    version: VersionOption = None,
    instrument: InstrumentOption = None,
) -> None:
    """Print the scoring rules as one SQL query.

    It scores responses where they are stored: a database or warehouse table.
    It reads a table with respondent_id and one column per item id, the answers written
    as in CSV input (any case, yes/no spellings, multi-select codes separated by ; or |),
    and gives one row per response with the columns of `ketscreen score` except source:
    status, band, lower_bound, the scores, top_flag_level, flags, missing, error and the
    questionnaire. It is generated from the questionnaire's own rules and translated to
    each dialect by sqlglot. An invalid response has status invalid and a short error
    naming the column; `ketscreen score` gives the full message.
    """
    from ketscreen.io.atomic import check_writable_target, write_text_atomic
    from ketscreen.io.questionnaires import load_questionnaire
    from ketscreen.io.sql import export_sql as scoring_query

    if dialect is None:
        names = ", ".join(d.value for d in SqlDialect)
        raise UsageError(f"--dialect is required: one of {names}")
    if output is not None:
        check_writable_target(output, force=force)
    q = load_questionnaire(path, instrument=instrument, version=version)
    text = scoring_query(q, dialect, table=table, view=view)
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_text_atomic(output, text, force=force)
        typer.echo(f"Wrote {output}", err=True)
