"""Command-line interface: thin Typer commands over the core and io layers.

Each command module registers itself on `app`; heavy imports happen inside the
command functions so that start-up stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence

from ketscreen import interrupts
from ketscreen.cli import authoring, export, info, intake, run, score, sessions_cmd  # noqa: F401  (register commands)
from ketscreen.cli.app import (
    StdoutClosed,
    StdoutError,
    app,
    error,
    guarded_stdout,
    quiet_stdout,
    run_typer,
)
from ketscreen.errors import ExitCode

__all__ = ["app", "main", "run_typer"]


def main(argv: Sequence[str]) -> int:
    """Run one command line; its exit code.

    Signals are held while Typer parses the options; each command raises them as
    KeyboardInterrupt as soon as it starts (`handle_errors`). Usage errors are one line
    in our error style (`run_typer`). Standard output is guarded for the whole run, so
    that Typer's own output (--help, --version) to a full disk or a closed pipe ends as
    any command's does: one line (or quietly), exit 1.
    """
    try:
        with guarded_stdout():  # flushed when the block ends, inside the guard
            return _main(argv)
    except StdoutClosed:
        quiet_stdout()
        return ExitCode.ERROR
    except StdoutError as exc:
        quiet_stdout()
        error(str(exc))
        return ExitCode.ERROR


def _main(argv: Sequence[str]) -> int:
    code = run.run_without_typer(argv)  # the screener starts faster without Typer
    if code is not None:
        return code
    interrupts.hold()
    return run_typer(list(argv))
