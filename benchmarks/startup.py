"""Start-up time, as ratios of medians measured in one sitting (DESIGN.md targets).

1. `ketscreen --version`, `ketscreen --help` and `ketscreen score --help` against
   `python -c "import typer"`: target 1.5x or less (#15 added the help pages).
2. The first question on screen against `python -c "import typer, rich.console, yaml"`:
   target 2x or less. Measured in a real pseudo-terminal (pexpect, from `.[test]`):
   from starting `ketscreen run` to "Question 1 of" on screen, pressing Enter on the
   welcome as soon as it appears; the baseline runs in the same kind of terminal, to
   its exit.

Run from an environment where ketscreen is installed:

    python benchmarks/startup.py [--runs 21]

Each command runs once to warm the file cache, then `--runs` times alternately, and the
medians are compared. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    return time.perf_counter() - started


def measure(commands: dict[str, Callable[[], float]], runs: int) -> dict[str, list[float]]:
    for command in commands.values():
        command()  # warm-up: file cache and .pyc files
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(command())
    return samples


def in_terminal(command: list[str], env: dict[str, str], *, answer_welcome: bool) -> float:
    """Seconds from spawning `command` in a pseudo-terminal to the first question (or exit)."""
    import pexpect

    started = time.perf_counter()
    child = pexpect.spawn(
        command[0], command[1:], env=env, dimensions=(50, 100), encoding="utf-8", timeout=30
    )
    try:
        if answer_welcome:
            child.expect_exact("Press Enter to start")
            child.sendline("")
            child.expect_exact("Question 1 of")
        else:
            child.expect(pexpect.EOF)
        return time.perf_counter() - started
    finally:
        child.close(force=True)


def table(title: str, samples: dict[str, list[float]], runs: int) -> None:
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = next(iter(medians.values()))
    print(f"\n{title}\n")
    print(f"| command | median (ms, {runs} runs) | ratio |")
    print("|---|---|---|")
    for name, value in medians.items():
        print(f"| {name} | {value * 1000:.0f} | {value / base:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    entry = shutil.which("ketscreen") or sys.exit("ketscreen is not on PATH; install it first")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}

    version = measure(
        {
            "baseline: python -c 'import typer'": lambda: timed(
                [sys.executable, "-c", "import typer"], env
            ),
            "ketscreen --version": lambda: timed([entry, "--version"], env),
            "ketscreen --help": lambda: timed([entry, "--help"], env),
            "ketscreen score --help": lambda: timed([entry, "score", "--help"], env),
        },
        args.runs,
    )
    table("`--version` and `--help`", version, args.runs)

    tty = {**env, "TERM": "xterm-256color"}
    tty.pop("NO_COLOR", None)
    baseline = [sys.executable, "-c", "import typer, rich.console, yaml"]
    first_question = measure(
        {
            "baseline: python -c 'import typer, rich.console, yaml'": lambda: in_terminal(
                baseline, tty, answer_welcome=False
            ),
            "ketscreen run: first question on screen": lambda: in_terminal(
                [entry, "run", "--region", "UK"], tty, answer_welcome=True
            ),
        },
        args.runs,
    )
    table("Time to the first question (pseudo-terminal)", first_question, args.runs)


if __name__ == "__main__":
    main()
