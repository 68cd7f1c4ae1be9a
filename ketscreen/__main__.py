"""The process entry point: the `ketscreen` command and `python -m ketscreen`.

Signal handling comes first, before Typer, Rich and the rest are imported, so that a
Ctrl-C at any moment after the interpreter has started gives the same one line and exit
code 130, never a traceback (see `ketscreen.interrupts`).
"""

from __future__ import annotations

import sys

from ketscreen import interrupts

INTERRUPTED = 130
"""`ExitCode.INTERRUPTED`, written out so that nothing more is imported before `install()`."""


def main() -> None:
    interrupts.install()
    try:
        from ketscreen.cli import main as cli_main  # Typer, Rich and our commands

        code = cli_main(sys.argv[1:])
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr, flush=True)
        code = INTERRUPTED
    interrupts.quiet_exit()
    if code == INTERRUPTED:
        _exit_interrupted()
    sys.exit(code)


def _exit_interrupted() -> None:
    """Exit 130 for certain after an interrupt that was handled.

    CPython (3.11 at least) remembers a KeyboardInterrupt raised inside code that
    `exec`/`eval` runs from a string (dataclasses and namedtuples are made that way,
    so it happens when Ctrl-C comes during an import) as "unhandled", even when it
    was caught, and then ends the process by SIGINT instead of with our exit code.
    So the interpreter's exit steps are run here, and the process ends with 130.
    """
    import atexit
    import contextlib
    import os

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken stream
            stream.flush()
    os._exit(INTERRUPTED)


if __name__ == "__main__":
    main()
