"""The Typer application and the edge where errors become words and exit codes."""

from __future__ import annotations

import contextlib
import errno
import functools
import io
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ketscreen import __version__, interrupts
from ketscreen.core.safe_text import visible
from ketscreen.errors import ExitCode, KetscreenError, QuestionnaireError

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="ketscreen",
    help=(
        "A private self-check for ketamine use problems. Not a diagnosis.\n\n"
        "Answers stay on this computer. Nothing is sent, and nothing is saved unless you ask."
    ),
    add_completion=False,
    rich_markup_mode=None,
    no_args_is_help=False,
    # Answers are health data: never print local variables in tracebacks.
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def say(message: str) -> None:
    """A line for the user on stderr, plain text, no wrapping. Every message goes
    through here (or a console from `make_console`): what it quotes from a file (a name,
    a key, an id) has its control characters shown, not obeyed."""
    typer.echo(visible(message), err=True)


def man_page_help(command: Any) -> Any:
    """Help that reads like a man page: arguments by name (`SESSION`, `INPUT...`), without
    the type labels (`<str>`, `<list[str]>`) and braces that Typer adds. Returns `command`."""
    from typer.core import TyperArgument

    for param in command.params:
        if isinstance(param, TyperArgument):
            name = param.metavar or (param.name or "arg").upper()
            usage = name + ("..." if param.nargs != 1 else "")
            usage = usage if param.required else f"[{usage}]"
            setattr(param, "display_type_rich", lambda ctx: None)  # noqa: B010
            # Typer 0.29 asks _usage_display_name; 0.26 to 0.28 ask get_usage_pieces, and
            # would print a required argument as `{SESSION}`.
            setattr(param, "_usage_display_name", lambda usage=usage: usage)  # noqa: B010
            setattr(param, "get_usage_pieces", lambda ctx, usage=usage: [usage])  # noqa: B010
    for sub in getattr(command, "commands", {}).values():
        man_page_help(sub)
    return command


def usage_error_line(message: str, command_path: str) -> str:
    """A usage error (Click's or ours) in our one style: `Error: what; where to look`."""
    message = message.replace("Value error, ", "").strip()
    if message.endswith(".") and not message.endswith("..."):
        message = message[:-1]
    return f"Error: {message}; see {command_path} --help"


def run_typer(argv: list[str]) -> int:
    """Run the Typer app on `argv` and return the exit code. Usage errors are one line in
    the same style as our own errors (`Error: ...`), never a panel."""
    # Typer (0.26 and newer) carries its own copy of Click; its exceptions are the ones raised.
    from typer._click.exceptions import ClickException

    command = man_page_help(typer.main.get_command(app))
    try:
        code = command.main(args=argv, prog_name="ketscreen", standalone_mode=False)
    except ClickException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # a group run bare: its help
            typer.echo(exc.format_message(), err=True)
            return int(exc.exit_code)
        ctx = getattr(exc, "ctx", None)
        path = ctx.command_path if ctx is not None else "ketscreen"
        typer.echo(usage_error_line(exc.format_message(), path), err=True)
        return int(exc.exit_code)
    except typer.Abort:  # end of input at a Click prompt (we have none): as Click does
        typer.echo("Aborted.", err=True)
        return int(ExitCode.ERROR)
    return int(code) if isinstance(code, int) else int(ExitCode.OK)


def error(message: str) -> None:
    """One error message for the user on stderr."""
    say(f"Error: {message}")


def warn(message: str) -> None:
    say(f"Warning: {message}")


class StdoutError(KetscreenError):
    """Standard output cannot be written (a full disk, /dev/full, an I/O error)."""


class StdoutClosed(KetscreenError):
    """Whoever read standard output went away (`| head -1`): stop, quietly."""


def _stdout_problem(exc: OSError) -> KetscreenError:
    if isinstance(exc, BrokenPipeError):
        return StdoutClosed("standard output was closed")
    reason = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    return StdoutError(
        f"standard output cannot be written ({reason}), so the output is incomplete; "
        "free some space or send it elsewhere"
    )


class GuardedStdout:
    """Standard output whose write failures are our own errors, whichever code writes
    (Typer's echo, Rich, the batch writer): one clear line, never a traceback, and a
    closed pipe is told from a full disk. Everything else is the real stream's."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._buffer: GuardedStdout | None = None

    def write(self, data: Any) -> Any:
        try:
            return self._inner.write(data)
        except OSError as exc:
            raise _stdout_problem(exc) from None

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._inner.flush()
        except OSError as exc:
            raise _stdout_problem(exc) from None

    @property
    def buffer(self) -> GuardedStdout:
        if self._buffer is None:
            self._buffer = GuardedStdout(self._inner.buffer)
        return self._buffer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextlib.contextmanager
def guarded_stdout() -> Iterator[None]:
    """Guard standard output for the block, and flush it at the end, however it ends (a
    failing flush replaces whatever was on its way out: the output is then the news)."""
    if sys.stdout is None or isinstance(sys.stdout, GuardedStdout):
        yield
        return
    inner = sys.stdout
    sys.stdout = GuardedStdout(inner)
    try:
        try:
            yield
        finally:
            sys.stdout.flush()  # here, so a failure is ours to report, not the interpreter's
    finally:
        sys.stdout = inner


def quiet_stdout() -> None:
    """Point stdout at the null device, so that the final flush does not fail again."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def handle_errors(func: F) -> F:
    """Turn our errors into one clear message and a named exit code.

    Ctrl-C (and SIGTERM, SIGHUP: `ketscreen.interrupts`) exits 130. Standard output
    that cannot be written (a full disk, /dev/full) is one error line and exit 1; one
    that was closed (`| head -1`) exits 1 quietly. An unexpected exception (a bug)
    prints a short notice with no answers in it; set
    KETSCREEN_DEBUG=1 to see the traceback.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            # a signal held while Typer parsed is raised here
            with interrupts.live(), guarded_stdout():
                return func(*args, **kwargs)
        except (StdoutClosed, BrokenPipeError):
            quiet_stdout()
            raise typer.Exit(ExitCode.ERROR) from None
        except StdoutError as exc:
            quiet_stdout()
            error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except QuestionnaireError as exc:
            for problem in exc.problems:
                say(str(problem))
            count = len(exc.problems)
            error(f"{count} problem{'s' if count != 1 else ''} found; fix the file and try again")
            raise typer.Exit(exc.exit_code) from None
        except KetscreenError as exc:
            error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            say("\nInterrupted. Nothing was saved.")
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("KETSCREEN_DEBUG"):
                raise
            error(
                f"ketscreen hit an unexpected problem ({type(exc).__name__}). This is a bug; "
                "run again with KETSCREEN_DEBUG=1 to see details. "
                "Your answers were not sent anywhere."
            )
            raise typer.Exit(ExitCode.ERROR) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ketscreen {__version__}")
        raise typer.Exit()


# The screener's options, shared by `ketscreen run` and bare `ketscreen` (DESIGN.md:
# `ketscreen [run] [--region R] [--plain] [--questionnaire PATH]`).
RegionOption = Annotated[
    str | None,
    typer.Option(
        "--region",
        "-r",
        metavar="REGION",
        help="Whose helplines to show: US, UK, CA, AU, IE or INTL. "
        "Default: $KETSCREEN_REGION, else your locale, else INTL.",
        show_default=False,
    ),
]
PlainOption = Annotated[
    bool,
    typer.Option(
        "--plain",
        help="Plain numbered lines: no colour, boxes or screen clearing (for screen readers "
        "and scripts). Also on with NO_COLOR, TERM=dumb, or when not in a terminal.",
    ),
]
QuestionnaireOption = Annotated[
    Path | None,
    typer.Option(
        "--questionnaire",
        metavar="FILE",
        help="A questionnaire YAML file. Default: the newest version of the shipped "
        "instrument (see --instrument).",
        show_default=False,
    ),
]


InstrumentOption = Annotated[
    str | None,
    typer.Option(
        "--instrument",
        metavar="ID",
        help="Which installed instrument (see `ketscreen list`). Default: ketamine.",
        show_default=False,
    ),
]


VersionOption = Annotated[
    str | None,
    typer.Option(
        "--version",
        metavar="VERSION",
        help="Which shipped version of the questionnaire (for example 1.0.0). Default: the newest.",
        show_default=False,
    ),
]


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version,
        is_eager=True,
        help="Show the version and exit.",
    ),
    region: RegionOption = None,
    plain: PlainOption = False,
    questionnaire: QuestionnaireOption = None,
    instrument: InstrumentOption = None,
) -> None:
    """A private self-check for ketamine use problems. Not a diagnosis.

    With no command, runs the self-check (the same as `ketscreen run`).
    """  # Typer shows the app's help text above, not this docstring
    if ctx.invoked_subcommand is None:
        from ketscreen.cli.run import run

        run(region=region, plain=plain, questionnaire=questionnaire, instrument=instrument)
    elif region is not None or plain or questionnaire is not None or instrument is not None:
        raise typer.BadParameter(
            "--region, --plain, --questionnaire and --instrument before a command only apply "
            "to the self-check; put them after the command: "
            f"ketscreen {ctx.invoked_subcommand} ...",
            ctx=ctx,
        )
