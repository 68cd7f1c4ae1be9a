"""`ketscreen run` (and bare `ketscreen`): the self-check for a person at a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from ketscreen.cli.app import (
    InstrumentOption,
    PlainOption,
    QuestionnaireOption,
    RegionOption,
    app,
    handle_errors,
    warn,
)
from ketscreen.errors import ExitCode


@app.command("run")
@handle_errors
def run(
    region: RegionOption = None,
    plain: PlainOption = False,
    questionnaire: QuestionnaireOption = None,
    instrument: InstrumentOption = None,
) -> None:
    """Answer the self-check and see your result (the default).

    One question at a time: type a number and press Enter (y or n on yes-or-no
    questions); b goes back, s is prefer not to say, ? is help and
    q stops (exit 0). Nothing is saved unless you ask for a copy of the result. Ctrl-C
    exits 130; end of input before the result exits 1.
    """
    from ketscreen.io.questionnaires import load_questionnaire
    from ketscreen.io.resources import choose_region, load_resources
    from ketscreen.ui.console import make_console
    from ketscreen.ui.screener import run_screener
    from ketscreen.ui.terminal import Terminal, interactive, want_plain

    choice = choose_region(region, os.environ)
    if choice.warning:
        warn(choice.warning)
    loaded = load_questionnaire(questionnaire, instrument=instrument)
    is_plain = want_plain(plain, os.environ, sys.stdin, sys.stdout)
    terminal = Terminal(
        make_console(plain=is_plain),
        sys.stdin,
        plain=is_plain,
        paged=interactive(sys.stdin, sys.stdout),
    )
    run_screener(terminal, loaded, load_resources()[choice.code], choice)


def screener_options(argv: Sequence[str]) -> dict[str, Any] | None:
    """The options of a plain screener invocation, read without Typer; else None.

    `ketscreen`, `ketscreen run` and either with `--region R` / `-r R` /
    `--region=R`, `--plain`, `--questionnaire PATH`, `--instrument ID` are read here. Anything else
    (help, version, other commands, a missing value, an unknown option) returns None,
    and Typer parses it as usual, with its help and error messages.

    Why: Typer 0.29 coerces option values through pydantic, whose import takes about
    as long as importing Typer, Rich and PyYAML together; DESIGN.md wants the first
    question on screen within 2x of that. The options mean exactly what they mean to
    Typer: the same `run` function receives them.
    """
    args = list(argv)
    if args[:1] == ["run"]:
        args.pop(0)
    options: dict[str, Any] = {
        "region": None,
        "plain": False,
        "questionnaire": None,
        "instrument": None,
    }
    valued = {"--region": "region", "-r": "region", "--questionnaire": "questionnaire"}
    valued["--instrument"] = "instrument"
    while args:
        arg = args.pop(0)
        name, equals, value = arg.partition("=")
        if arg == "--plain":
            options["plain"] = True
        elif name in valued and name != "-r" and equals and value:
            options[valued[name]] = value
        elif arg in valued and args and args[0][:1] != "-":
            options[valued[arg]] = args.pop(0)
        else:
            return None
    if options["questionnaire"] is not None:
        options["questionnaire"] = Path(options["questionnaire"])
    return options


def run_without_typer(argv: Sequence[str]) -> int | None:
    """Run the screener for a plain invocation; its exit code, or None to use Typer."""
    options = screener_options(argv)
    if options is None:
        return None
    try:
        run(**options)
    except typer.Exit as exc:
        return int(exc.exit_code)
    return int(ExitCode.OK)
