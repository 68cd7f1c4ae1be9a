"""Commands for analysts: `score` (batch scoring of saved responses) and `template`."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ketscreen.cli.app import (
    InstrumentOption,
    QuestionnaireOption,
    VersionOption,
    app,
    handle_errors,
    say,
    warn,
)
from ketscreen.errors import ExitCode
from ketscreen.io.batch.formats import Engine, InputFormat, OutputFormat, TemplateFormat

if TYPE_CHECKING:
    from ketscreen.core.model import Questionnaire
    from ketscreen.io.batch.runner import Summary

PROGRESS_MIN_BYTES = 4 << 20
"""Inputs smaller than this finish before a progress bar would be worth drawing."""


@app.command("score")
@handle_errors
def score_command(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="CSV, TSV, JSON Lines, JSON or Parquet files, saved session files or folders "
            "of them, FHIR QuestionnaireResponses or Bundles of them; - reads standard input.",
            show_default=False,
            metavar="INPUT",
        ),
    ],
    fmt: Annotated[
        OutputFormat | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="csv, jsonl, json, fhir or parquet (only with -o). Default: from the -o "
            "file name, else csv.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write to this file instead of stdout (- is stdout).",
            show_default=False,
        ),
    ] = None,
    errors: Annotated[
        Path | None,
        typer.Option(
            "--errors",
            metavar="FILE",
            help="Also write the invalid records, with their reasons, to this file "
            "(format from its name, else --format).",
            show_default=False,
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Stop at the first invalid record: exit 1 and write nothing."
        ),
    ] = False,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain", help="Add each record's answers and per-item contributions (JSON)."
        ),
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="FHIR input: compare the scores each response stores with the recomputed "
            "ones; a response that disagrees is invalid, with every difference named.",
        ),
    ] = False,
    accept_unversioned: Annotated[
        bool,
        typer.Option(
            "--accept-unversioned",
            help="FHIR input: read a response whose questionnaire names no |version with "
            "the version given by --version (or --questionnaire). Without it such a "
            "response is invalid: ketscreen cannot tell which version it answers.",
        ),
    ] = False,
    raw_csv: Annotated[
        bool,
        typer.Option(
            "--raw-csv",
            help="CSV output: write cells exactly as read. By default a cell that starts "
            "with = + - @, tab or CR gets a ' in front, so a spreadsheet cannot run it "
            "as a formula, and control characters are written as \\x1b.",
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite existing -o and --errors files.")
    ] = False,
    input_format: Annotated[
        InputFormat | None,
        typer.Option(
            "--input-format",
            metavar="FORMAT",
            help="csv, tsv, jsonl, json, session, fhir or parquet. Default: from each file name; "
            "standard input is recognised by its first character.",
            show_default=False,
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(
            "--delimiter",
            metavar="CHAR",
            help="CSV delimiter: , ; | or tab. Default: detected from the header row.",
            show_default=False,
        ),
    ] = None,
    instrument: InstrumentOption = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            metavar="N",
            help="Worker processes, 0 or more. 0 (the default): one per processor, up to 4, "
            "for inputs over 24 MB. With --engine duckdb: DuckDB's threads (0: its own "
            "choice, one per processor).",
            show_default=False,
        ),
    ] = 0,
    questionnaire: QuestionnaireOption = None,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            metavar="ENGINE",
            help="default or duckdb: DuckDB scores CSV, TSV and Parquet records with the "
            'exported SQL (pip install "ketscreen[duckdb]"); the output is the same.',
            show_default=False,
        ),
    ] = Engine.DEFAULT,
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            metavar="VERSION",
            help="The questionnaire version for records that name none. Default: the "
            "newest. A record that names its version (a questionnaire_version column or "
            "key, a session, a FHIR response) is scored with that version.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Score saved responses in bulk.

    One output record per input record, in input order, each scored with the
    questionnaire version it names, else the newest (or --version). Data goes to
    stdout (or -o); a summary goes to stderr.

    An invalid record gets status invalid and an error naming the column and allowed codes.

    Exit 0: all valid; 3: some invalid; 1: an input cannot be read, or --strict stopped.
    """
    from ketscreen.io.batch.formats import DELIMITERS, UsageProblem
    from ketscreen.io.batch.readers import resolve
    from ketscreen.io.batch.runner import Options, score_files
    from ketscreen.io.batch.versions import VersionSet
    from ketscreen.io.questionnaires import load_questionnaire
    from ketscreen.io.questionnaires import versions as shipped_versions

    if jobs < 0:
        raise UsageProblem(f"--jobs must be 0 or more (not {jobs})")
    if output is not None and str(output) == "-":
        output = None
    out_format = fmt or (output and OutputFormat.for_name(output.name)) or OutputFormat.CSV
    if explain and out_format in (OutputFormat.CSV, OutputFormat.PARQUET):
        raise UsageProblem("--explain adds nested data; use it with --format jsonl or json")
    if output is None and out_format is OutputFormat.PARQUET:
        raise UsageProblem(
            "Parquet output is binary and cannot go to standard output; "
            "write it to a file: -o FILE.parquet"
        )
    split = None
    if delimiter is not None:
        split = DELIMITERS.get(delimiter.lower())
        if split is None:
            raise UsageProblem(f"--delimiter must be one of , ; | tab (not {delimiter!r})")
    options = Options(
        output=out_format,
        errors=None if errors is None else OutputFormat.for_name(errors.name) or out_format,
        explain=explain,
        strict=strict,
        verify=verify,
        delimiter=split,
        jobs=jobs,
        raw_csv=raw_csv,
        accept_unversioned=accept_unversioned,
        engine=engine,
    )
    if accept_unversioned and version is None and questionnaire is None:
        raise UsageProblem(
            "--accept-unversioned reads responses that name no version with the version "
            "you choose; add --version VERSION (or --questionnaire FILE)"
        )
    loaded = load_questionnaire(questionnaire, instrument=instrument, version=version)
    versions = VersionSet.of(
        loaded,
        (
            load_questionnaire(version=v.version, instrument=loaded.id)
            for v in shipped_versions(loaded.id)
        ),
    )
    sources = resolve(inputs, input_format)
    never_fhir = (InputFormat.CSV, InputFormat.TSV, InputFormat.JSONL, InputFormat.SESSION)
    if verify and all(source.format in never_fhir for source in sources):
        raise UsageProblem(
            "--verify compares the scores stored in FHIR QuestionnaireResponses; "
            "give FHIR input (a .fhir.json file, or --input-format fhir)"
        )
    if engine is Engine.DUCKDB:
        from ketscreen.io.batch.duckdb_engine import check_usable

        check_usable(options, sources, jobs=jobs)
    total = sum(source.size or 0 for source in sources)
    # A closed or full stdout ends the run through handle_errors (quietly, or in one line).
    with _progress(total) as advance:
        summary = score_files(
            versions,
            sources,
            options,
            output=output,
            errors=errors,
            force=force,
            stdin=sys.stdin.buffer,
            stdout=sys.stdout,
            warn=warn,
            advance=advance,
        )
    sys.stdout.flush()  # every row is out (or its failure reported) before the summary
    for line in summary_lines(summary, loaded):
        say(line)
    if summary.invalid:
        raise typer.Exit(ExitCode.INVALID_RECORDS)


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for large inputs when stderr is a terminal."""
    if total < PROGRESS_MIN_BYTES or not sys.stderr.isatty():
        yield lambda _: None
        return
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeRemainingColumn

    from ketscreen.ui.console import make_console

    with Progress(
        "Scoring",
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=make_console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("score", total=total)
        yield lambda size: bar.advance(task, size)


def summary_lines(summary: Summary, questionnaire: Questionnaire) -> list[str]:
    """The summary for stderr: records, per band, per top flag level, invalid ones."""
    from ketscreen.core.model import FlagLevel
    from ketscreen.core.scoring import NOT_ASSESSED

    def counts(names: list[str], counter: dict[str, int]) -> str:
        return ", ".join(f"{name} {counter.get(name, 0):,}" for name in names)

    ok = summary.records - summary.invalid
    lines = [
        f"Scored {summary.records:,} record{'' if summary.records == 1 else 's'} in "
        f"{summary.seconds:.1f} s: "
        f"{ok:,} ok, {summary.invalid:,} invalid.",
        "Bands: " + counts([b.id for b in questionnaire.band_rule.bands], summary.bands),
        "Top flag level: "
        + counts([level.value for level in FlagLevel] + [NOT_ASSESSED, "none"], summary.levels),
    ]
    if summary.verified:
        lines.append(f"Verified {summary.verified:,} stored result(s) against the recomputed ones.")
        for key, count in sorted(summary.unstored.items()):
            lines.append(
                f"  {count:,} of {summary.verified:,} do not store {key}: recomputed, not compared."
            )
    if summary.noted:
        lines.append(
            f"Read with a warning: {summary.noted:,} record(s)"
            + (f" (the first {len(summary.notes)})" if summary.noted > len(summary.notes) else "")
            + ":"
        )
        lines.extend(f"  {note}" for note in summary.notes)
    if summary.problems:
        shown = len(summary.problems)
        lines.append(
            f"Invalid records (first {shown}; every one has status invalid and an error "
            "in the output):"
            if summary.invalid > shown
            else "Invalid records:"
        )
        lines.extend(f"  {problem}" for problem in summary.problems)
    if summary.levels.get("emergency") or summary.levels.get("crisis"):
        lines.append("Some records carry crisis or emergency flags: review those first.")
    if summary.levels.get(NOT_ASSESSED):
        lines.append(
            "Some records are not_assessed: the safety question has no answer, so they "
            "cannot be read as having no flags."
        )
    lines.append("These are screening results, not diagnoses.")
    return lines


@app.command("template")
@handle_errors
def template_command(
    fmt: Annotated[
        TemplateFormat,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="csv, jsonl or yaml; yaml also lists each item's allowed codes. Default: csv.",
            show_default=False,
        ),
    ] = TemplateFormat.CSV,
    instrument: InstrumentOption = None,
    questionnaire: QuestionnaireOption = None,
    version: VersionOption = None,
) -> None:
    """Print a blank response record to fill in by hand.

    The CSV and JSON Lines forms hold only the item ids; --format yaml also lists each
    item's allowed codes and when it is asked. Default: the newest questionnaire
    version; --version for another shipped one.
    """
    from ketscreen.io.batch.template import render_template
    from ketscreen.io.questionnaires import load_questionnaire

    loaded = load_questionnaire(questionnaire, instrument=instrument, version=version)
    typer.echo(render_template(loaded, fmt), nl=False)
    if fmt is not TemplateFormat.YAML:
        # stderr: the template on stdout stays exactly one record
        typer.echo(
            "Each item's allowed codes, and when it is asked: ketscreen template --format yaml",
            err=True,
        )
