"""Start-up time of `ketscreen --version` against `python -c "import typer"`.

DESIGN.md target: the ratio of medians is 1.5 or less. Run from an environment where
ketscreen is installed:

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


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def measure(commands: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    for command in commands.values():
        timed(command, env)  # warm-up: file cache and .pyc files
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(timed(command, env))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    entry = shutil.which("ketscreen") or sys.exit("ketscreen is not on PATH; install it first")
    commands = {
        "baseline: python -c 'import typer'": [sys.executable, "-c", "import typer"],
        "ketscreen --version": [entry, "--version"],
    }
    samples = measure(commands, args.runs)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians["baseline: python -c 'import typer'"]
    print(f"| command | median (ms, {args.runs} runs) | ratio |")
    print("|---|---|---|")
    for name, value in medians.items():
        print(f"| {name} | {value * 1000:.0f} | {value / base:.2f}x |")


if __name__ == "__main__":
    main()
