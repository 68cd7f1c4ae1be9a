"""The same batch records in every input format, and how fast `ketscreen score` reads each.

`benchmarks/batch.py` generates N full records as CSV. This turns those very records into
JSON Lines, one JSON array, a FHIR Bundle of QuestionnaireResponses (built by ketscreen's
own FHIR export, compact JSON as a FHIR client sends it) and a folder of saved session
files (built by ketscreen's own session code), so that every input path can be timed
against CSV to CSV on equal work:

    python benchmarks/formats.py --rows 20000 --folder /tmp/bench [--time] [--runs 3]

Without `--time` it only writes the files (those already there are kept). With `--time`
it runs `ketscreen score INPUT -o OUT.csv --force --jobs 1` per format (interleaved,
`--runs` times, each in its own process) and prints the median wall time, the ratio to
CSV to CSV and the peak resident memory of the process tree.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch import generate, run  # noqa: E402

from ketscreen import load_questionnaire  # noqa: E402
from ketscreen.core.model import ItemType, Questionnaire  # noqa: E402
from ketscreen.core.normalize import normalize_answers  # noqa: E402
from ketscreen.core.scoring import score  # noqa: E402
from ketscreen.io.fhir import response_to_fhir  # noqa: E402
from ketscreen.io.sessions import Session  # noqa: E402

FORMATS = ("csv", "jsonl", "json", "fhir", "sessions")
_ID_LETTERS = "23456789abcdefghjkmnpqrstvwxyz"
_AT = "2026-11-21T15:40:12Z"


def records(path: Path, q: Questionnaire) -> Iterator[dict[str, Any]]:
    """The CSV file's records as JSON objects: multi-select answers as lists of codes."""
    multi = {item.id for item in q.items.values() if item.type is ItemType.MULTI}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        for row in reader:
            record: dict[str, Any] = {}
            for name, cell in zip(header, row, strict=True):
                if name in multi:
                    record[name] = cell.split(";") if cell else []
                else:
                    record[name] = cell
            yield record


def _answers(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "respondent_id"}


def write_jsonl(source: Path, target: Path, q: Questionnaire) -> None:
    with target.open("wb") as out:
        for record in records(source, q):
            out.write(orjson.dumps(record) + b"\n")


def write_json(source: Path, target: Path, q: Questionnaire) -> None:
    """One JSON array, one record a line (as `ketscreen score --format json` writes)."""
    with target.open("wb") as out:
        out.write(b"[")
        for n, record in enumerate(records(source, q)):
            out.write(b"\n" if n == 0 else b",\n")
            out.write(orjson.dumps(record))
        out.write(b"\n]\n")


def fhir_response(q: Questionnaire, record: dict[str, Any]) -> dict[str, Any]:
    """The QuestionnaireResponse ketscreen exports for one record."""
    result = score(q, _answers(record), scored_at=_AT)
    return response_to_fhir(q, result, respondent_id=record["respondent_id"])


def write_fhir(source: Path, target: Path, q: Questionnaire) -> None:
    """A `collection` Bundle (`ketscreen.io.fhir.bundle`'s keys, in its order), compact,
    written entry by entry so that memory stays flat."""
    with target.open("wb") as out:
        out.write(b'{"resourceType":"Bundle","type":"collection","entry":[')
        for n, record in enumerate(records(source, q)):
            if n:
                out.write(b",")
            out.write(orjson.dumps({"resource": fhir_response(q, record)}))
        out.write(b"]}")


def session_id(n: int) -> str:
    letters = []
    for _ in range(5):
        n, k = divmod(n, len(_ID_LETTERS))
        letters.append(_ID_LETTERS[k])
    return "20261121-154012-" + "".join(reversed(letters))


def write_sessions(source: Path, folder: Path, q: Questionnaire) -> None:
    """One completed session file a record, as `ketscreen interview` saves them."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, record in enumerate(records(source, q)):
        session = Session.start(session_id(n), q, record["respondent_id"], at=_AT)
        session.record_answers(normalize_answers(q, _answers(record)), at=_AT)
        session.complete(at=_AT)
        (folder / f"{session.id}.json").write_text(session.to_json(), encoding="utf-8")


def write_all(
    folder: Path, rows: int, q: Questionnaire, wanted: Collection[str] = FORMATS
) -> dict[str, Path]:
    """The `wanted` formats' inputs (and CSV) for `rows` records; files already there are
    kept. Every path is returned; only the wanted ones are sure to exist."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": folder / f"records-{rows}.csv",
        "jsonl": folder / f"records-{rows}.jsonl",
        "json": folder / f"records-{rows}.json",
        "fhir": folder / f"records-{rows}.fhir.json",
        "sessions": folder / f"sessions-{rows}",
    }
    if not paths["csv"].exists():
        generate(paths["csv"], rows, q)
    writers = {
        "jsonl": write_jsonl,
        "json": write_json,
        "fhir": write_fhir,
        "sessions": write_sessions,
    }
    for name, write in writers.items():
        if name in wanted and not paths[name].exists():
            partial = paths[name].with_name(paths[name].name + ".partial")
            write(paths["csv"], partial, q)
            partial.rename(paths[name])
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--time", action="store_true", help="time `ketscreen score` on each")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--formats", default=",".join(FORMATS))
    args = parser.parse_args()
    q = load_questionnaire()
    chosen = [f for f in args.formats.split(",") if f]
    paths = write_all(args.folder, args.rows, q, chosen)
    if not args.time:
        for name, path in paths.items():
            print(f"{name}: {path}")
        return
    if "csv" not in chosen:
        chosen.insert(0, "csv")
    out = args.folder / "out.csv"
    commands = {
        name: [
            sys.executable,
            "-m",
            "ketscreen",
            "score",
            str(paths[name]),
            "-o",
            str(out),
            "--force",
            "--jobs",
            "1",
        ]
        for name in chosen
    }
    run(commands["csv"])  # warm the file cache and the imports
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks = dict.fromkeys(commands, 0)
    for _ in range(args.runs):
        for name, command in commands.items():
            elapsed, peak = run(command)
            times[name].append(elapsed)
            peaks[name] = max(peaks[name], peak)
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["csv"]
    print(f"{args.rows:,} records, {args.runs} runs each, --jobs 1, CSV out")
    print()
    print("| input | median wall (s) | vs CSV to CSV | peak RSS (MB) |")
    print("|---|---|---|---|")
    for name, value in medians.items():
        print(f"| {name} | {value:.2f} | {value / base:.2f}x | {peaks[name] / 1e6:.0f} |")


if __name__ == "__main__":
    main()
