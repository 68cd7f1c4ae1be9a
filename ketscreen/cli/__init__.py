"""Command-line interface: thin Typer commands over the core and io layers.

Each command module registers itself on `app`; heavy imports happen inside the
command functions so that start-up stays fast.
"""

from __future__ import annotations

import sys

from ketscreen.cli import authoring, export, info, intake, run, score, sessions_cmd  # noqa: F401  (register commands)
from ketscreen.cli.app import app, run_typer

__all__ = ["app", "main", "run_typer"]


def main() -> None:
    code = run.run_without_typer(sys.argv[1:])  # the screener starts faster without Typer
    sys.exit(run_typer(sys.argv[1:]) if code is None else code)
