"""`ketscreen score --engine duckdb` gives the default engine's output, byte for byte.

Each case runs `ketscreen score` twice on the same files, with and without `--engine
duckdb`, and compares stdout, the -o file, the --errors file, stderr (the summary, with
its timing taken out) and the exit code. The files hold test_sql.py's corpus (every band,
flag, skip path, spelling variant and invalid kind) plus the rows DuckDB leaves to the
Python path: blank, short and long rows, respondent ids that CSV output quotes or guards,
text outside ASCII, other versions; and files the default engine must read itself
(quoted cells over several lines, bytes that are not UTF-8).
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ketscreen.cli import app
from ketscreen.errors import ExitCode
from tests.batch_helpers import ASSETS
from tests.test_sql import corpus

cli = CliRunner()
INSTRUMENTS = {
    "ketamine": ["--instrument", "ketamine"],
    "sds": ["--instrument", "sds"],
    "generic": ["--questionnaire", str(ASSETS / "generic.yaml")],
}
TIMING = re.compile(r" in [0-9.]+ s: ")
RUNS = itertools.count()


def invoke(*args: str) -> tuple[int, str, str]:
    result = cli.invoke(app, ["score", *args])
    return result.exit_code, result.stdout, TIMING.sub(" in T s: ", result.stderr)


def rows_of(name: str) -> list[list[str]]:
    """The corpus as CSV rows (a header of respondent_id and the item ids), a fresh copy."""
    return [list(row) for row in _rows(name)]


@functools.cache
def _rows(name: str) -> list[list[str]]:
    records = corpus(name)
    items = list(records[0])
    return [["respondent_id", *items]] + [
        [f"r{n}", *(cells[i] for i in items)] for n, cells in enumerate(records)
    ]


def csv_bytes(rows: Sequence[Sequence[str]], delimiter: str = ",", end: str = "\n") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=end).writerows(rows)
    return buffer.getvalue().encode()


def awkward(rows: list[list[str]]) -> bytes:
    """The corpus with rows the SQL leaves to Python, and lines that are not records."""
    header, body = rows[0], rows[1:]
    width = len(header)
    text = csv_bytes([header, *body[:50]])
    text += b"\n" + b"," * (width - 1) + b"\n"  # an empty line and a line of empty cells
    text += csv_bytes([body[50][:3], body[51] + ["extra"], body[52] + ["", ""]])
    odd = [
        ["=cmd", "+1", "-x", "@me", " spaced ", "Zo\u00eb", "tab\tin", "back\\slash"],
        [f"r{n}" for n in range(8)],
    ]
    for k, rid in enumerate(odd[0]):
        text += csv_bytes([[rid, *body[60 + k][1:]]])
    text += csv_bytes([[body[70][0], *(c.upper() + "\u00a0" for c in body[70][1:])]])
    text += " ".join(body[71]).encode() + b"\n"  # one cell
    return text + csv_bytes(body[72:])


def same(
    tmp_path: Path, inputs: Sequence[Path], extra: Sequence[str] = (), out: str = "csv"
) -> tuple[int, str]:
    """Run both engines; assert every output is the same; the exit code and stderr."""
    results = []
    run = next(RUNS)
    for engine in ("default", "duckdb"):
        folder = tmp_path / f"{engine}-{run}"
        folder.mkdir()
        target, errors = folder / f"out.{out}", folder / f"errors.{out}"
        code, stdout, stderr = invoke(
            *map(str, inputs), "--engine", engine, *extra, "-o", str(target), "--errors",
            str(errors),
        )  # fmt: skip
        files = [p.read_bytes() if p.exists() else None for p in (target, errors)]
        if out == "parquet":
            files = [pq.read_table(io.BytesIO(f)) if f else None for f in files]
        code_out, std_out = code, ""
        if out == "csv":  # and once to stdout
            code_out, std_out, _ = invoke(*map(str, inputs), "--engine", engine, *extra)
        results.append((code, stdout, stderr, files, code_out, std_out))
    default, duck = results
    assert duck[:3] == default[:3]
    for ours, theirs in zip(duck[3], default[3], strict=True):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert ours.equals(theirs) if out == "parquet" else ours == theirs
    assert duck[4:] == default[4:]
    return default[0], default[2]


@pytest.mark.parametrize(
    ("name", "out"),
    [("ketamine", "csv"), ("ketamine", "jsonl"), ("ketamine", "parquet"), *(
        (name, "csv") for name in INSTRUMENTS if name != "ketamine"
    )],
)  # fmt: skip
def test_the_corpus_scores_the_same(tmp_path: Path, name: str, out: str) -> None:
    data = tmp_path / "records.csv"
    data.write_bytes(awkward(rows_of(name)))
    code, stderr = same(tmp_path, [data], INSTRUMENTS[name], out)
    assert code == ExitCode.INVALID_RECORDS
    assert "Invalid records (first 10;" in stderr


@pytest.mark.parametrize(
    ("suffix", "encode"),
    [
        (".tsv", lambda rows: csv_bytes(rows, "\t")),
        (".csv", lambda rows: b"\xef\xbb\xbf" + csv_bytes(rows, ";", "\r\n")),
        (".csv", lambda rows: csv_bytes([[c.upper() for c in rows[0]], *rows[1:]], "|")),
    ],
    ids=["tsv", "bom-crlf-semicolon", "pipes-upper-case-header"],
)
def test_other_delimiters_and_line_ends(tmp_path: Path, suffix: str, encode: object) -> None:
    data = tmp_path / f"records{suffix}"
    data.write_bytes(encode(rows_of("ketamine")))  # type: ignore[operator]
    assert same(tmp_path, [data])[0] == ExitCode.INVALID_RECORDS


def test_files_the_default_engine_reads_for_duckdb(tmp_path: Path) -> None:
    """A quoted cell over two lines, a lone CR, bytes that are not UTF-8, a file name
    that CSV output quotes: still the same output, from several inputs in one run."""
    rows = rows_of("ketamine")
    quoted = tmp_path / "quoted.csv"
    quoted.write_bytes(csv_bytes([rows[0], ["two\nlines", *rows[1][1:]], *rows[2:30]]))
    cr = tmp_path / "cr.csv"
    cr.write_bytes(csv_bytes(rows[:10]) + b"r9,\r" + csv_bytes(rows[10:20]))
    latin = tmp_path / "latin.csv"
    latin.write_bytes(csv_bytes(rows[:10]) + b"Zo\xeb" + csv_bytes(rows[10:20]))
    comma = tmp_path / "a,b.csv"
    comma.write_bytes(csv_bytes(rows[:20]))
    plain = tmp_path / "plain.csv"
    plain.write_bytes(csv_bytes(rows[:20]))
    assert same(tmp_path, [plain, quoted, cr, latin, comma])[0] == ExitCode.INVALID_RECORDS


def test_versions_named_in_a_column(tmp_path: Path) -> None:
    rows = rows_of("ketamine")
    header = [*rows[0], "questionnaire_version"]
    versions = ["", "1.1.0", "1.0.0", " 1.0.0", "9.9", "1.1.0 "]
    body = [[*row, versions[n % len(versions)]] for n, row in enumerate(rows[1:300])]
    data = tmp_path / "versions.csv"
    data.write_bytes(csv_bytes([header, *body]))
    assert same(tmp_path, [data])[0] == ExitCode.INVALID_RECORDS


def test_all_valid_strict_raw_csv_and_warnings(tmp_path: Path) -> None:
    rows = rows_of("ketamine")
    good = tmp_path / "good.csv"
    ok = _valid_ids(rows)
    valid = [row for row in rows[1:400] if row[0] in ok]
    good.write_bytes(csv_bytes([[*rows[0], "Clinic Notes"], *([*r, "=x"] for r in valid)]))
    assert same(tmp_path, [good], ["--raw-csv", "--jobs", "1"])[0] == ExitCode.OK
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(awkward(rows))
    code, stderr = same(tmp_path, [good, mixed], ["--strict"])
    assert code == ExitCode.ERROR and "--strict: stopped here" in stderr


def _valid_ids(rows: list[list[str]]) -> set[str]:
    data = csv_bytes(rows).decode()
    result = cli.invoke(app, ["score", "-", "--input-format", "csv"], input=data)
    scored = csv.DictReader(io.StringIO(result.stdout))
    return {r["respondent_id"] for r in scored if r["status"] == "ok"}


def test_header_only_and_empty_inputs(tmp_path: Path) -> None:
    header = tmp_path / "header.csv"
    header.write_text("respondent_id,use_12m\n")
    bare = tmp_path / "bare.csv"
    bare.write_text("respondent_id,use_12m")
    assert same(tmp_path, [header, bare])[0] == ExitCode.OK
    nothing = tmp_path / "nothing.csv"
    nothing.write_text("respondent_id,nothing_known\nr1,2\n")
    code, stderr = same(tmp_path, [nothing])
    assert code == ExitCode.ERROR and "no column of the header is an item id" in stderr


def parquet_of(rows: list[list[str]], path: Path, *, typed: bool = False) -> Path:
    """The rows as a Parquet file written by pyarrow; with `typed`, yes/no items as
    booleans, respondent ids as integers, and empty cells as nulls."""
    header, body = rows[0], rows[1:]
    columns: dict[str, pa.Array] = {}
    for k, name in enumerate(header):
        cells = [row[k] for row in body]
        if typed and name == "respondent_id":
            columns[name] = pa.array([n for n, _ in enumerate(cells)], pa.int64())
        elif typed and {c.strip().lower() for c in cells} <= {"yes", "no", ""}:
            spelled = {"yes": True, "no": False, "": None}
            columns[name] = pa.array([spelled[c.strip().lower()] for c in cells], pa.bool_())
        else:
            columns[name] = pa.array([c or None for c in cells] if typed else cells)
    pq.write_table(pa.table(columns), path, row_group_size=700)
    return path


@pytest.mark.parametrize(
    ("typed", "out"), [(False, "csv"), (True, "jsonl"), (True, "parquet"), (False, "parquet")]
)
def test_parquet_input_scores_the_same(tmp_path: Path, typed: bool, out: str) -> None:
    rows = rows_of("ketamine")
    rows[5][0] = "=cmd"
    rows[6][0] = "line\nbreak"
    data = parquet_of(rows, tmp_path / "records.parquet", typed=typed)
    assert same(tmp_path, [data], out=out)[0] == ExitCode.INVALID_RECORDS


def test_a_float_column_is_left_to_the_default_reader(tmp_path: Path) -> None:
    data = tmp_path / "floats.parquet"
    pq.write_table(
        pa.table({"use_12m": ["no", "no"], "self_harm": ["no", None], "x": [1.5, 2.0]}), data
    )
    assert same(tmp_path, [data])[0] == ExitCode.OK


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--format", "json"], "--format json"),
        (["--format", "fhir"], "--format fhir"),
        (["--format", "jsonl", "--explain"], "--explain"),
        (["--errors", "bad.fhir.json"], "--errors"),
    ],
)
def test_what_the_sql_cannot_honour_is_a_usage_error(
    tmp_path: Path, args: list[str], named: str
) -> None:
    data = tmp_path / "records.csv"
    data.write_text("respondent_id,use_12m\nr1,no\n")
    code, stdout, stderr = invoke(str(data), "--engine", "duckdb", *args)
    assert code == ExitCode.USAGE
    assert "drop --engine duckdb" in stderr
    assert stdout == ""


@pytest.mark.parametrize("suffix", [".json", ".fhir.json"])
def test_an_input_format_duckdb_does_not_read_is_a_usage_error(tmp_path: Path, suffix: str) -> None:
    data = tmp_path / f"records{suffix}"
    data.write_text("[]")
    code, _, stderr = invoke(str(data), "--engine", "duckdb")
    assert code == ExitCode.USAGE
    assert "--engine duckdb reads csv, tsv, jsonl and parquet" in stderr
    assert "drop --engine duckdb" in stderr


def test_json_lines_input_is_scored_the_same(tmp_path: Path) -> None:
    data = tmp_path / "records.jsonl"
    data.write_text('{"respondent_id": "r1", "use_12m": "no"}\n{"use_12m": "maybe"}\n')
    assert same(tmp_path, [data])[0] == ExitCode.INVALID_RECORDS


def test_without_duckdb_one_message_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)  # import duckdb raises ImportError
    data = tmp_path / "records.csv"
    data.write_text("respondent_id,use_12m\nr1,no\n")
    code, stdout, stderr = invoke(str(data), "--engine", "duckdb")
    assert code == ExitCode.ERROR
    assert stderr == 'Error: --engine duckdb needs DuckDB: pip install "ketscreen[duckdb]"\n'
    assert stdout == ""


@pytest.mark.parametrize("length", [1_500_000, 3_000_000])  # under and over LINE_LIMIT
def test_a_line_longer_than_duckdb_reads_by_default(tmp_path: Path, length: int) -> None:
    rows = rows_of("ketamine")
    data = tmp_path / "long.csv"
    long_row = [rows[2][0], "x" * length, *rows[2][2:]]
    data.write_bytes(csv_bytes([rows[0], rows[1], long_row, *rows[3:40]]))
    code, stderr = same(tmp_path, [data])
    assert code == ExitCode.INVALID_RECORDS and "a cell is longer than" in stderr


def many_rows(count: int) -> bytes:
    """`count` records: the corpus's valid records over and over, and every 1,000th row
    one of the others, each respondent id its own, so rows that Python scores come
    all through the file among the rows the SQL formats."""
    header, *body = rows_of("ketamine")
    valid = _valid_ids([header, *body])
    good = [row for row in body if row[0] in valid]
    bad = [row for row in body if row[0] not in valid]
    assert good and bad
    rows = []
    for n in range(count):
        row = bad[n // 1000 % len(bad)] if n % 1000 == 999 else good[n % len(good)]
        rows.append([f"{row[0]}-{n}", *row[1:]])
    return csv_bytes([header, *rows])


def test_rows_are_numbered_in_order_on_two_threads(tmp_path: Path) -> None:
    """A file big enough for DuckDB to read on two threads: each row's number (its
    line) comes from its place in DuckDB's results, and Python's rows are in place."""
    data = tmp_path / "many.csv"
    data.write_bytes(many_rows(100_000))
    code, _ = same(tmp_path, [data], ["--jobs", "2"])
    assert code == ExitCode.INVALID_RECORDS


@pytest.mark.parametrize("out", ["csv", "jsonl", "parquet"])
def test_rows_are_numbered_across_small_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str
) -> None:
    from ketscreen.io.batch import duckdb_engine

    monkeypatch.setattr(duckdb_engine, "FETCH_ROWS", 7)
    data = tmp_path / "records.csv"
    data.write_bytes(awkward(rows_of("ketamine")))
    assert same(tmp_path, [data], out=out)[0] == ExitCode.INVALID_RECORDS
    parquet = parquet_of(rows_of("ketamine"), tmp_path / "records.parquet")
    assert same(tmp_path, [parquet], out=out)[0] == ExitCode.INVALID_RECORDS


@pytest.mark.parametrize("out", ["csv", "jsonl"])
def test_without_pyarrow_duckdb_results_are_read_as_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str
) -> None:
    from ketscreen.io.batch import duckdb_engine

    monkeypatch.setattr(duckdb_engine, "FETCH_ROWS", 7)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    data = tmp_path / "records.csv"
    data.write_bytes(awkward(rows_of("ketamine")))
    assert same(tmp_path, [data], out=out)[0] == ExitCode.INVALID_RECORDS


def odd_parquet(tmp_path: Path) -> dict[str, Path]:
    """Parquet files with columns the SQL cannot name or read as text."""
    base = {"use_12m": ["no", "yes", "no"], "self_harm": ["no", "now", None]}
    tables = {
        "unnamed-first": pa.table({"": ["a", "b", "c"], **base}),
        "unnamed-last": pa.table({**base, "": ["a", "b", "c"]}),
        "nanoseconds": pa.table({**base, "at": pa.array([1, 2, 3], pa.timestamp("ns", tz="UTC"))}),
        "string-view": pa.table({k: pa.array(v, pa.string_view()) for k, v in base.items()}),
        "no-values": pa.table({**base, "freq_3m": pa.nulls(3)}),
    }
    paths = {}
    for name, table in tables.items():
        paths[name] = tmp_path / f"{name}.parquet"
        pq.write_table(table, paths[name])
    return paths


@pytest.mark.parametrize(
    "name", ["unnamed-first", "unnamed-last", "nanoseconds", "string-view", "no-values"]
)
def test_parquet_columns_of_every_kind_score_the_same(tmp_path: Path, name: str) -> None:
    data = odd_parquet(tmp_path)[name]
    code, stderr = same(tmp_path, [data])
    assert "Traceback" not in stderr and "unexpected" not in stderr
    assert code in (ExitCode.OK, ExitCode.INVALID_RECORDS)
    assert "Scored 3 records" in stderr
    assert "the row is long" not in stderr  # an unnamed column is not a CSV's trailing comma


def test_a_damaged_parquet_page_is_one_message(tmp_path: Path) -> None:
    rows = rows_of("ketamine")
    data = parquet_of(rows[:50], tmp_path / "damaged.parquet")
    raw = bytearray(data.read_bytes())
    raw[8:60] = bytes(b ^ 0xFF for b in raw[8:60])
    data.write_bytes(bytes(raw))
    code, stderr = same(tmp_path, [data])
    assert code == ExitCode.ERROR
    assert "damaged.parquet: cannot be read as Parquet" in stderr


def test_an_error_duckdb_meets_midway_is_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB running out of memory while it streams results reaches us through Arrow as
    an OSError; it ends the input with one message naming it, not as a crash."""
    from ketscreen.io.batch import duckdb_engine

    real = duckdb_engine._batches

    def running_out(reader: object) -> object:
        def batches() -> object:
            batches = iter(reader)  # type: ignore[call-overload]
            yield next(batches)
            raise OSError("Out of Memory Error: could not allocate block of size 32.0 MiB")

        return real(batches())  # type: ignore[arg-type]

    monkeypatch.setattr(duckdb_engine, "FETCH_ROWS", 7)
    monkeypatch.setattr(duckdb_engine, "_batches", running_out)
    data = tmp_path / "records.csv"
    data.write_bytes(awkward(rows_of("ketamine")))
    code, stdout, stderr = invoke(str(data), "--engine", "duckdb", "-o", str(tmp_path / "o.csv"))
    assert code == ExitCode.ERROR
    assert "Traceback" not in stderr and "bug" not in stderr
    assert (
        "records.csv: DuckDB stopped reading it (Out of Memory Error: could not allocate block "
        "of size 32.0 MiB); score it without --engine duckdb" in stderr
    )
    assert not (tmp_path / "o.csv").exists()
