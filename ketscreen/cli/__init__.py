"""Command-line interface: thin Typer commands over the core and io layers.

Each command module registers itself on `app`; heavy imports happen inside the
command functions so that start-up stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence

from ketscreen import interrupts
from ketscreen.cli import authoring, export, info, intake, run, score, sessions_cmd  # noqa: F401  (register commands)
from ketscreen.cli.app import app, run_typer

__all__ = ["app", "main", "run_typer"]


def main(argv: Sequence[str]) -> int:
    """Run one command line; its exit code.

    Signals are held while Typer parses the options; each command raises them as
    KeyboardInterrupt as soon as it starts (`handle_errors`). Usage errors are one line
    in our error style (`run_typer`).
    """
    code = run.run_without_typer(argv)  # the screener starts faster without Typer
    if code is not None:
        return code
    interrupts.hold()
    return run_typer(list(argv))
