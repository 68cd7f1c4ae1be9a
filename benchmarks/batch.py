"""Batch scoring speed and memory: `ketscreen score` against csv.reader and DuckDB.

DESIGN.md target: scoring a 1,000,000-row CSV of full records, with output to CSV, takes
at most 1.5x the wall time of DuckDB running the same scoring as SQL on the same file,
and peak memory does not grow with the number of rows. Run from an environment where
ketscreen and duckdb are installed (`pip install -e ".[bench]"`):

    python benchmarks/batch.py --rows 1000000 [--runs 3] [--jobs 0]

It writes N full records (every item answered, seeded random codes) to a CSV file, then
times, alternately and `--runs` times each, three commands on that same file, each in its
own process so that every one pays its own start-up:

- `csv.reader`: a bare pass over the file with Python's csv module (a floor for any
  pure-Python reader);
- `duckdb`: the same normalisation, skip logic, scores, bands, flags and missing items
  as SQL (`ketscreen export sql`'s query, `ketscreen.io.sql`), written to CSV by DuckDB;
- `ketscreen score FILE -o OUT.csv`.

It checks that DuckDB and ketscreen agree on every row, and samples the resident memory
of each command's whole process tree (Linux /proc) every 20 ms. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ketscreen import load_questionnaire
from ketscreen.core.model import ItemType, Questionnaire
from ketscreen.io.batch.writers import columns
from ketscreen.io.sql import lit, scoring_sql


def generate(path: Path, rows: int, questionnaire: Questionnaire, seed: int = 5) -> None:
    """Full records: use_12m = yes and every item answered with a random code."""
    rng = random.Random(seed)
    items = list(questionnaire.items.values())
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["respondent_id", *(item.id for item in items)])
        for n in range(rows):
            row = [f"r{n:07d}"]
            for item in items:
                if item.required:
                    row.append("yes")
                elif item.type is ItemType.MULTI:
                    row.append(";".join(rng.sample(item.codes, rng.randint(1, 2))))
                else:
                    row.append(rng.choice(item.codes))
            writer.writerow(row)


# -- the same scoring as SQL --------------------------------------------------------------


def duckdb_sql(q: Questionnaire, source: Path, target: Path) -> str:
    """COPY (scored rows) TO target: `ketscreen export sql`'s query, on the CSV file."""
    rows = f"read_csv({lit(str(source))}, all_varchar = true, header = true)"
    return f"COPY ({scoring_sql(q, rows)}) TO {lit(str(target))} (HEADER, DELIMITER ',')"


# -- running and measuring ------------------------------------------------------------------


def _tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants; 0 if unknown."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (OSError, ValueError):
            continue
    return total


def run(command: list[str]) -> tuple[float, int]:
    """Wall time (s) and peak resident memory of the process tree (bytes)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(process.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = process.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        sys.exit(f"{command[0]} failed ({process.returncode}):\n{err.decode()}")
    return elapsed, peak


def compare(ours: Path, theirs: Path) -> int:
    """Rows where ketscreen and DuckDB disagree (columns other than source and error:
    the SQL has no file and line, and its error messages are shorter). Matched by
    respondent id, since SQL gives rows in no particular order; DuckDB compares."""
    import duckdb

    keys = [c for c in columns(load_questionnaire()) if c not in ("source", "error")]
    differ = " OR ".join(
        f"coalesce(a.{k}, '') IS DISTINCT FROM coalesce(b.{k}, '')" for k in keys[1:]
    )
    found = duckdb.sql(
        f"SELECT count(*) FROM read_csv({lit(str(ours))}, all_varchar = true) a "
        f"FULL JOIN read_csv({lit(str(theirs))}, all_varchar = true) b USING (respondent_id) "
        f"WHERE a.respondent_id IS NULL OR b.respondent_id IS NULL OR {differ}"
    ).fetchall()
    return int(found[0][0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=0, help="ketscreen --jobs (0: automatic)")
    parser.add_argument("--folder", type=Path, default=None, help="keep files here")
    args = parser.parse_args()
    entry = shutil.which("ketscreen") or sys.exit("ketscreen is not on PATH; install it first")
    try:
        import duckdb  # noqa: F401
    except ImportError:
        sys.exit('duckdb is not installed: pip install -e ".[bench]"')

    folder = args.folder or Path(tempfile.mkdtemp(prefix="ketscreen-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    q = load_questionnaire()
    data = folder / f"records-{args.rows}.csv"
    if not data.exists():
        generate(data, args.rows, q)
    ours, theirs = folder / "ketscreen.csv", folder / "duckdb.csv"
    python = sys.executable
    reader = (
        f"import csv\nwith open({str(data)!r}, newline='') as f:\n"
        "    for row in csv.reader(f): pass"
    )
    sql = duckdb_sql(q, data, theirs)
    commands = {
        "csv.reader pass": [python, "-c", reader],
        "duckdb (SQL, CSV out)": [
            python,
            "-c",
            f"import duckdb; duckdb.connect().execute({sql!r})",
        ],
        "ketscreen score (CSV out)": [
            entry,
            "score",
            str(data),
            "-o",
            str(ours),
            "--force",
            "--jobs",
            str(args.jobs),
        ],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, int] = dict.fromkeys(commands, 0)
    for command in commands.values():  # warm the file cache
        run(command)
    for _ in range(args.runs):
        for name, command in commands.items():
            elapsed, peak = run(command)
            times[name].append(elapsed)
            peaks[name] = max(peaks[name], peak)
    differ = compare(ours, theirs)

    medians = {name: statistics.median(values) for name, values in times.items()}
    duck = medians["duckdb (SQL, CSV out)"]
    plain = medians["csv.reader pass"]
    size = data.stat().st_size / 1e6
    print(
        f"{args.rows:,} rows ({size:.0f} MB), {args.runs} runs each, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    print()
    print("| command | median wall (s) | vs DuckDB | vs csv.reader | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for name, value in medians.items():
        print(
            f"| {name} | {value:.2f} | {value / duck:.2f}x | {value / plain:.2f}x "
            f"| {peaks[name] / 1e6:.0f} |"
        )
    print()
    print(f"Rows where ketscreen and DuckDB disagree: {differ}")
    if args.folder is None:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
