"""Command-line interface: thin Typer commands over the core and io layers.

Each command module registers itself on `app`; heavy imports happen inside the
command functions so that start-up stays fast.
"""

from __future__ import annotations

import sys

from ketscreen.cli import authoring, export, info, intake, run, score, sessions_cmd  # noqa: F401  (register commands)
from ketscreen.cli.app import (
    StdoutClosed,
    StdoutError,
    app,
    error,
    guarded_stdout,
    quiet_stdout,
)
from ketscreen.errors import ExitCode

__all__ = ["app", "main"]


def main() -> None:
    """The console script. Standard output is guarded for the whole run, so that Typer's
    own output (--help, --version) to a full disk or a closed pipe ends as any
    command's does: one line (or quietly), exit 1, never a traceback."""
    code: int | str | None
    try:
        with guarded_stdout():
            code = run.run_without_typer(sys.argv[1:])  # the screener starts faster so
            if code is None:
                app(prog_name="ketscreen")  # exits
    except SystemExit as done:
        code = done.code
    except StdoutClosed:
        quiet_stdout()
        code = ExitCode.ERROR
    except StdoutError as exc:
        quiet_stdout()
        error(str(exc))
        code = ExitCode.ERROR
    sys.exit(code)
