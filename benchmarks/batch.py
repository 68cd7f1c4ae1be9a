"""Batch scoring speed and memory, per path: `ketscreen score` against DuckDB and CSV to CSV.

Issue #15's targets, on 1,000,000 full records, one process, medians of `--runs`
interleaved runs, each command in its own process so that every one pays its own start-up:

- the default engine, CSV to CSV, `--jobs 1`: at most 1.0x DuckDB running the same
  full-rule SQL (`ketscreen export sql`'s query) on the same file, CSV to CSV (DESIGN.md
  asks 1.25x);
- `--engine duckdb`, CSV to CSV: at most 1.1x that DuckDB run. Both are one process with
  DuckDB's own threads (one per CPU): `--engine duckdb` runs without `--jobs`, since for
  it `--jobs N` sets DuckDB's threads. The same pair at one thread (`--jobs 1`, and the
  SQL with `SET threads = 1`) is measured too, for the cost of our part alone;
- every other input format (JSON Lines, JSON, FHIR Bundle, a folder of sessions, Parquet)
  and output format (JSON Lines, JSON, FHIR, Parquet): within 2x of the same records CSV
  to CSV on the default engine; `--explain` within 3x;
- peak memory flat in the number of rows: the resident memory of each command's process
  tree at `--rows` within 10% of that at `--small` (sampled every 20 ms from /proc).

Run from an environment with ketscreen, duckdb and pyarrow installed
(`pip install -e ".[bench]"`):

    python benchmarks/batch.py --rows 1000000 --small 100000 --runs 3 --folder /tmp/bench

The records (seeded random codes, every item answered) are written once as CSV and turned
into every other input format by benchmarks/formats.py; with `--folder` they are kept for
the next run (a 1M-record FHIR Bundle is about 12 GB, and a million session files take a
while to write). `--only NAME,NAME` measures the paths whose names contain those words. It
checks that DuckDB and the default engine agree on every row, and prints a Markdown table.
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
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/formats.py

from ketscreen import load_questionnaire  # noqa: E402
from ketscreen.core.model import ItemType, Questionnaire  # noqa: E402
from ketscreen.io.batch.writers import columns  # noqa: E402
from ketscreen.io.sql import lit, scoring_sql  # noqa: E402


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


def duckdb_command(python: str, sql: str, threads: int = 0) -> list[str]:
    """A Python process that runs `sql` on DuckDB (`threads`: 0 for DuckDB's default)."""
    config = f"config={{'threads': {threads}}}" if threads else ""
    return [python, "-c", f"import duckdb; duckdb.connect({config}).execute({sql!r})"]


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


@dataclass(frozen=True)
class Path_:
    """One measured command: `ketscreen score` from one input format to one output."""

    name: str
    source: str  # input format: csv, jsonl, json, fhir, sessions, parquet
    target: str  # output format: csv, jsonl, json, fhir, parquet
    options: tuple[str, ...] = ()
    against: str = "csv"  # the ratio's baseline: "duckdb", "duckdb1" or "csv" (CSV to CSV)
    limit: float = 2.0
    jobs: str = "1"  # --jobs: worker processes, or for --engine duckdb DuckDB's threads


PATHS = (
    Path_("default engine, CSV to CSV", "csv", "csv", against="duckdb", limit=1.0),
    Path_("--engine duckdb, CSV to CSV", "csv", "csv", ("--engine", "duckdb"), "duckdb", 1.1, "0"),
    Path_(
        "--engine duckdb --jobs 1, CSV to CSV",
        "csv",
        "csv",
        ("--engine", "duckdb"),
        "duckdb1",
        1.1,
    ),
    Path_("JSON Lines in", "jsonl", "csv"),
    Path_("JSON in", "json", "csv"),
    Path_("FHIR Bundle in", "fhir", "csv"),
    Path_("sessions folder in", "sessions", "csv"),
    Path_("Parquet in", "parquet", "csv"),
    Path_("JSON Lines out", "csv", "jsonl"),
    Path_("JSON out", "csv", "json"),
    Path_("FHIR out", "csv", "fhir"),
    Path_("Parquet out", "csv", "parquet"),
    Path_("--explain (JSON Lines out)", "csv", "jsonl", ("--explain",), limit=3.0),
    Path_(
        "--engine duckdb, Parquet to Parquet",
        "parquet",
        "parquet",
        ("--engine", "duckdb"),
        jobs="0",
    ),
)
SUFFIX = {
    "csv": ".csv",
    "jsonl": ".jsonl",
    "json": ".json",
    "fhir": ".fhir.json",
    "parquet": ".parquet",
    "sessions": "",
}


def inputs_for(folder: Path, rows: int, wanted: set[str]) -> dict[str, Path]:
    """The same records in the `wanted` input formats (benchmarks/formats.py; generated
    once and kept in `folder`), Parquet too: the CSV's columns as strings, by DuckDB."""
    import duckdb
    import formats

    paths = formats.write_all(folder, rows, load_questionnaire(), wanted)
    parquet = folder / f"records-{rows}.parquet"
    if "parquet" in wanted and not parquet.exists():
        rows_sql = f"read_csv({lit(str(paths['csv']))}, all_varchar = true, header = true)"
        duckdb.connect().execute(
            f"COPY (SELECT * FROM {rows_sql}) TO {lit(str(parquet))} (FORMAT parquet)"
        )
    return {**paths, "parquet": parquet}


def score_command(entry: str, path: Path_, source: Path, target: Path) -> list[str]:
    return [
        entry,
        "score",
        str(source),
        "-o",
        str(target),
        "--force",
        "--jobs",
        path.jobs,
        "--format",
        path.target,
        *path.options,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--small", type=int, default=100_000, help="also measure memory at this many rows (0: skip)"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=None, help="keep files here")
    parser.add_argument("--only", default="", help="comma-separated path names (substrings)")
    args = parser.parse_args()
    entry = shutil.which("ketscreen") or sys.exit("ketscreen is not on PATH; install it first")
    try:
        import duckdb  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        sys.exit('duckdb and pyarrow are needed: pip install -e ".[bench]"')
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    paths = [p for p in PATHS if not wanted or any(w in p.name for w in wanted)]
    folder = args.folder or Path(tempfile.mkdtemp(prefix="ketscreen-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    q = load_questionnaire()
    python = sys.executable
    sizes = [args.rows] + ([args.small] if args.small else [])
    results: dict[int, dict[str, tuple[float, int]]] = {}
    differ = -1
    for rows in sizes:
        files = inputs_for(folder, rows, {path.source for path in paths})
        data = files["csv"]
        theirs = folder / "duckdb.csv"
        reader = (
            f"import csv\nwith open({str(data)!r}, newline='') as f:\n"
            "    for row in csv.reader(f): pass"
        )
        sql = duckdb_sql(q, data, theirs)
        commands: dict[str, list[str]] = {
            "csv.reader pass": [python, "-c", reader],
            "duckdb (SQL, CSV to CSV)": duckdb_command(python, sql),
            "duckdb (SQL, CSV to CSV), 1 thread": duckdb_command(python, sql, threads=1),
        }
        outputs: dict[str, Path] = {}
        for path in paths:
            outputs[path.name] = folder / f"out-{len(outputs)}{SUFFIX[path.target]}"
            commands[path.name] = score_command(entry, path, files[path.source], outputs[path.name])
        times: dict[str, list[float]] = {name: [] for name in commands}
        peaks: dict[str, int] = dict.fromkeys(commands, 0)
        if rows != args.rows or args.runs < 3:
            for command in commands.values():  # warm the file cache (a median of 3 or
                run(command)  # more leaves out one cold run anyway)
        for _ in range(args.runs if rows == args.rows else 1):
            for name, command in commands.items():
                elapsed, peak = run(command)
                times[name].append(elapsed)
                peaks[name] = max(peaks[name], peak)
        if rows == args.rows and "default engine, CSV to CSV" in outputs:
            differ = compare(outputs["default engine, CSV to CSV"], theirs)
        results[rows] = {n: (statistics.median(v), peaks[n]) for n, v in times.items()}
        for out in outputs.values():
            out.unlink(missing_ok=True)
        theirs.unlink(missing_ok=True)

    big = results[args.rows]
    duck = big["duckdb (SQL, CSV to CSV)"][0]
    duck1 = big["duckdb (SQL, CSV to CSV), 1 thread"][0]
    plain = big.get("default engine, CSV to CSV", (float("nan"), 0))[0]
    size = files_size(folder, args.rows)
    print(
        f"{args.rows:,} full records ({size:.0f} MB as CSV), medians of {args.runs} "
        f"interleaved runs, one process each (--jobs 1 unless noted), {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}"
    )
    print()
    header = "| path | median wall (s) | ratio | target | peak RSS (MB) |"
    if args.small:
        header += f" RSS at {args.small:,} (MB) | RSS {args.rows:,} / {args.small:,} |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, (value, peak) in big.items():
        path = next((p for p in paths if p.name == name), None)
        if path is None:
            ratio, target = f"{value / duck:.2f}x DuckDB", ""
        elif path.against == "duckdb":
            ratio, target = f"{value / duck:.2f}x DuckDB", f"<= {path.limit}x"
        elif path.against == "duckdb1":
            ratio, target = f"{value / duck1:.2f}x DuckDB at 1 thread", f"<= {path.limit}x"
        else:
            ratio, target = f"{value / plain:.2f}x CSV to CSV", f"<= {path.limit}x"
        line = f"| {name} | {value:.2f} | {ratio} | {target} | {peak / 1e6:.0f} |"
        if args.small:
            small = results[args.small][name][1]
            line += f" {small / 1e6:.0f} | {peak / small if small else 0:.2f} |"
        print(line)
    print()
    print(f"Rows where the default engine and DuckDB's SQL disagree: {differ}")
    if args.folder is None:
        shutil.rmtree(folder)


def files_size(folder: Path, rows: int) -> float:
    return (folder / f"records-{rows}.csv").stat().st_size / 1e6


if __name__ == "__main__":
    main()
