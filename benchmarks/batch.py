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
  as SQL (generated from the questionnaire below), written to CSV by DuckDB;
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
from ketscreen.core.conditions import AllOf, AnyOf, Condition, ItemCondition
from ketscreen.core.model import DECLINED, ItemType, Questionnaire
from ketscreen.core.normalize import NO_SPELLINGS, YES_SPELLINGS
from ketscreen.io.batch.writers import columns


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


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _codes(column: str) -> str:
    """A multi-select cell as a list of trimmed codes."""
    return f"list_transform(string_split(replace({column}, '|', ';'), ';'), lambda c: trim(c))"


def _condition(cond: Condition, q: Questionnaire) -> str:
    if isinstance(cond, AllOf | AnyOf):
        joiner = " AND " if isinstance(cond, AllOf) else " OR "
        return "(" + joiner.join(_condition(part, q) for part in cond.parts) + ")"
    if not isinstance(cond, ItemCondition):
        raise ValueError(f"not an answer condition: {cond}")
    column = f'n."{cond.item}"'
    given = f"({column} IS NOT NULL AND {column} <> '{DECLINED}')"
    values = ", ".join(map(_lit, cond.values))
    if cond.op == "answered":
        return given if cond.answered else f"(NOT {given})"
    if cond.op == "contains":
        return f"({given} AND list_contains({_codes(column)}, {_lit(cond.values[0])}))"
    if cond.op in ("equals", "in"):
        return f"({given} AND {column} IN ({values}))"
    return f"({given} AND {column} NOT IN ({values}))"


def duckdb_sql(q: Questionnaire, source: Path, target: Path) -> str:
    """COPY (scored rows) TO target: the engine's rules, in SQL, for this questionnaire."""
    items = list(q.items.values())
    yes, no = ", ".join(map(_lit, YES_SPELLINGS)), ", ".join(map(_lit, NO_SPELLINGS))
    normal = []
    for item in items:
        cell = f'lower(trim("{item.id}"))'
        if item.type is ItemType.YES_NO:
            cell = (
                f"CASE WHEN {cell} IN ({yes}) THEN 'yes' "
                f"WHEN {cell} IN ({no}) THEN 'no' ELSE {cell} END"
            )
        normal.append(f"NULLIF({cell}, '') AS \"{item.id}\"")
    asked = {
        item.id: "TRUE" if item.enable_when is None else _condition(item.enable_when, q)
        for item in items
    }

    def given(item_id: str) -> str:
        return f'(n."{item_id}" IS NOT NULL AND n."{item_id}" <> \'{DECLINED}\')'

    def total(score_id: str) -> str:
        members = next(s.items for s in q.scores if s.id == score_id)
        parts = []
        for member in members:
            weights = " ".join(
                f"WHEN {_lit(code)} THEN {w}" for code, w in q.items[member].weights.items()
            )
            parts.append(
                f'CASE WHEN {asked[member]} THEN CASE n."{member}" {weights} ELSE 0 END ELSE 0 END'
            )
        present = " OR ".join(asked[m] for m in members)
        return f"CASE WHEN {present} THEN {' + '.join(parts)} END"

    problems = []
    for item in items:
        allowed = ", ".join(map(_lit, item.allowed_codes))
        column = f'n."{item.id}"'
        if item.type is ItemType.MULTI:
            bad = f"len(list_filter({_codes(column)}, lambda c: c NOT IN ({allowed}))) > 0"
        else:
            bad = f"{column} NOT IN ({allowed})"
        unknown, unasked = _lit(f"{item.id}: not an allowed answer"), _lit(f"{item.id}: not asked")
        problems.append(f"CASE WHEN {column} IS NOT NULL AND {bad} THEN {unknown} END")
        problems.append(
            f"CASE WHEN {column} IS NOT NULL AND NOT {asked[item.id]} THEN {unasked} END"
        )
        if item.required:
            problems.append(
                f"CASE WHEN NOT {given(item.id)} THEN {_lit(item.id + ': is required')} END"
            )
    rules = sorted(q.flags, key=lambda rule: rule.level.rank)
    flags = (
        "concat_ws(';', "
        + ", ".join(f"CASE WHEN {_condition(r.when, q)} THEN {_lit(r.id)} END" for r in rules)
        + ")"
    )
    top = (
        "CASE "
        + " ".join(f"WHEN {_condition(r.when, q)} THEN {_lit(r.level.value)}" for r in rules)
        + " END"
    )
    missing = (
        "concat_ws(';', "
        + ", ".join(
            f"CASE WHEN {asked[i.id]} AND NOT {given(i.id)} THEN {_lit(i.id)} END" for i in items
        )
        + ")"
    )
    rule = q.band_rule
    band_items = next(s.items for s in q.scores if s.id == rule.score)
    unanswered = " + ".join(
        f"CASE WHEN {asked[m]} AND NOT {given(m)} THEN 1 ELSE 0 END" for m in band_items
    )
    fixed = " ".join(
        f"WHEN {_condition(b.when, q)} THEN {_lit(b.id)}" for b in rule.bands if b.when
    )
    ranged = " ".join(
        f"WHEN s.band_score BETWEEN {b.low} AND {b.high} THEN {_lit(b.id)}"
        for b in rule.bands
        if b.low is not None
    )
    incomplete = next(b.id for b in rule.bands if b.incomplete)
    score_sql = ", ".join(f"{total(s.id)} AS {s.id}" for s in q.scores)
    score_names = "".join(f"{s.id}, " for s in q.scores)
    return f"""
COPY (
  WITH n AS MATERIALIZED (
    SELECT respondent_id, row_number() OVER () + 1 AS line, {", ".join(normal)}
    FROM read_csv({_lit(str(source))}, all_varchar = true, header = true)
  ),
  s AS (
    SELECT n.respondent_id, n.line, {total(rule.score)} AS band_score, {unanswered} AS unanswered,
      CASE {fixed} ELSE NULL END AS fixed_band,
      {score_sql}, {flags} AS flags, {top} AS top_flag_level,
      {missing} AS missing, concat_ws('; ', {", ".join(problems)}) AS error
    FROM n
  )
  SELECT respondent_id, {_lit(str(source))} || ':' || line AS source,
    CASE WHEN error = '' THEN 'ok' ELSE 'invalid' END AS status,
    coalesce(fixed_band, CASE WHEN unanswered > {rule.max_missing} THEN {_lit(incomplete)}
      {ranged} ELSE {_lit(incomplete)} END) AS band,
    fixed_band IS NULL AND unanswered BETWEEN 1 AND {rule.max_missing} AS lower_bound,
    {score_names}top_flag_level, flags, missing,
    NULLIF(error, '') AS error, {_lit(q.id)} AS questionnaire,
    {_lit(q.version)} AS questionnaire_version, {_lit(q.sha256)} AS questionnaire_sha256
  FROM s
) TO {_lit(str(target))} (HEADER, DELIMITER ',')
"""


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
    """Rows where ketscreen and DuckDB disagree (columns other than error)."""
    keys = [column for column in columns(load_questionnaire()) if column != "error"]
    differ = 0
    with ours.open(newline="") as a, theirs.open(newline="") as b:
        for mine, other in zip(csv.DictReader(a), csv.DictReader(b), strict=True):
            if any(mine[k] != other[k] for k in keys):
                differ += 1
    return differ


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
