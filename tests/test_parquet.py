"""Parquet in and out of `ketscreen score` on the default engine (pyarrow installed).

What an analyst sees: a Parquet file scores as the same records in CSV do; Parquet
output holds CSV output's columns, typed; a file that is not Parquet, a pipe, or a
column of a kind ketscreen cannot read is one clear message; without pyarrow, one line
says what to install.
"""

from __future__ import annotations

import csv
import io
import json
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ketscreen.cli import app
from ketscreen.errors import ExitCode

cli = CliRunner()
HEADER = ["respondent_id", "use_12m", "more_than_intended", "self_harm"]
ROWS = [
    ["r1", "no", "", "no"],
    ["r2", "yes", "no", "maybe"],  # invalid: not an answer of self_harm
    ["r3", "Yes ", "YES", "no"],
]


def score(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = cli.invoke(app, ["score", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def csv_of(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def test_parquet_in_and_out_hold_what_csv_does(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(csv_of([HEADER, *ROWS]))
    columns = {name: [row[k] for row in ROWS] for k, name in enumerate(HEADER)}
    pq.write_table(pa.table(columns), tmp_path / "in.parquet")

    code_csv, _, _ = score(str(source), "-o", str(tmp_path / "out.csv"))
    code_pq, _, _ = score(str(tmp_path / "in.parquet"), "-o", str(tmp_path / "out.parquet"))
    assert code_csv == code_pq == ExitCode.INVALID_RECORDS

    written = tmp_path / "out.parquet"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    table = pq.read_table(written)
    expected = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text())))
    assert table.column_names == list(expected[0])
    assert table.schema.field("lower_bound").type == pa.bool_()
    assert table.schema.field("respondent_id").type == pa.string()
    got = table.to_pylist()
    assert [r["respondent_id"] for r in got] == ["r1", "r2", "r3"]
    for ours, theirs in zip(got, expected, strict=True):
        assert ours["status"] == theirs["status"]
        assert ours["band"] == (theirs["band"] or None)
        assert ours["error"] == (theirs["error"] or None)
        assert ours["top_flag_level"] == (theirs["top_flag_level"] or None)
    invalid = got[1]
    assert invalid["status"] == "invalid" and "self_harm" in invalid["error"]
    assert invalid["band"] is None and invalid["flags"] is None  # nulls, not empty text
    score_ids = [f.name for f in table.schema if f.type == pa.int64()]
    assert score_ids, "the scores are whole numbers"
    for name in score_ids:
        assert got[0][name] == (int(expected[0][name]) if expected[0][name] else None)


def test_typed_columns_read_as_their_text(tmp_path: Path) -> None:
    """Booleans answer yes/no items, whole-number floats (pandas' ints with gaps) read
    as digits, nulls as empty cells, an integer id as its digits: the same results as
    the same records written as CSV text."""
    data = tmp_path / "typed.parquet"
    table = pa.table(
        {
            "respondent_id": pa.array([7, 8], pa.int64()),
            "use_12m": pa.array(["no", "yes"]),
            "more_than_intended": pa.array([None, True], pa.bool_()),
            "self_harm": pa.array(["no", None]),
        }
    )
    pq.write_table(table, data)
    text = tmp_path / "typed.csv"
    text.write_text(csv_of([HEADER, ["7", "no", "", "no"], ["8", "yes", "yes", ""]]))
    code, stdout, stderr = score(str(data), "--format", "jsonl")
    code_text, stdout_text, _ = score(str(text), "--format", "jsonl")
    assert code == code_text, stderr
    ours = [json.loads(line) for line in stdout.splitlines()]
    theirs = [json.loads(line) for line in stdout_text.splitlines()]
    assert [r["respondent_id"] for r in ours] == ["7", "8"]
    assert [r["source"] for r in ours] == [f"{data}:1", f"{data}:2"]
    for record in (*ours, *theirs):
        record.pop("source")
    assert ours == theirs


def test_a_file_that_is_not_parquet_is_one_clear_message(tmp_path: Path) -> None:
    data = tmp_path / "broken.parquet"
    data.write_bytes(b"PAR1 this is not really parquet")
    code, stdout, stderr = score(str(data))
    assert code != ExitCode.OK
    assert "broken.parquet: cannot be read as Parquet" in stderr
    assert "Traceback" not in stderr and stdout == ""


def test_a_column_of_another_kind_is_named(tmp_path: Path) -> None:
    data = tmp_path / "dates.parquet"
    pq.write_table(pa.table({"use_12m": ["no"], "self_harm": pa.array([1.5], pa.float32())}), data)
    code, _, stderr = score(str(data))
    assert code == ExitCode.INVALID_RECORDS  # 1.5 is no answer of self_harm
    stamp = tmp_path / "stamp.parquet"
    pq.write_table(pa.table({"use_12m": pa.array([b"no"], pa.binary())}), stamp)
    code, _, stderr = score(str(stamp))
    assert code != ExitCode.OK
    assert "column use_12m holds binary values" in stderr and "convert the column" in stderr


def test_parquet_output_needs_a_file(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(csv_of([HEADER, *ROWS]))
    code, stdout, stderr = score(str(source), "--format", "parquet")
    assert code == ExitCode.USAGE
    assert "-o FILE.parquet" in stderr and stdout == ""


def test_parquet_from_a_pipe_asks_for_the_file(tmp_path: Path) -> None:
    data = tmp_path / "in.parquet"
    pq.write_table(pa.table({"use_12m": ["no"]}), data)
    run = subprocess.run(
        f"cat {shlex.quote(str(data))} | {shlex.quote(sys.executable)} -m ketscreen "
        "score - --input-format parquet",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    code, stderr = run.returncode, run.stderr
    assert code != ExitCode.OK
    assert "Parquet cannot be read from a pipe; give the file's name" in stderr


def test_without_pyarrow_one_line_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    source = tmp_path / "in.csv"
    source.write_text(csv_of([HEADER, *ROWS]))
    target = tmp_path / "out.parquet"
    code, stdout, stderr = score(str(source), "-o", str(target))
    assert code == ExitCode.ERROR
    assert stderr == 'Error: Parquet needs pyarrow: pip install "ketscreen[parquet]"\n'
    assert not target.exists() and stdout == ""


def every_kind() -> pa.Table:
    """Columns of each kind ketscreen reads, with nulls, and one it only counts."""
    return pa.table(
        {
            "respondent_id": pa.array([7, None, -3], pa.int64()),
            "use_12m": pa.array(["yes", "Yes ", None], pa.large_string()),
            "freq_3m": pa.array(["daily", None, "weekly"], pa.string_view()),
            "craving": pa.array(["no", "yes", None]).dictionary_encode(),
            "tolerance": pa.array([True, None, False], pa.bool_()),
            "self_harm": pa.array(["no", "", "past_month"]),
            "withdrawal": pa.array([2.0, None, 1.5], pa.float64()),
            "routes": pa.array([["snort", "inject"], None, []], pa.list_(pa.string())),
            "k_hole": pa.nulls(3),
            "when": pa.array([1, None, 3], pa.timestamp("ns", tz="UTC")),
        }
    )


def test_arrow_writes_each_kind_of_column_as_the_csv_module_would(tmp_path: Path) -> None:
    """The fast path (Arrow writes a batch as CSV lines) reads as the same cells as the
    slow path (the csv module), for every kind of column."""
    from ketscreen.io.batch import parquet

    data = tmp_path / "kinds.parquet"
    pq.write_table(every_kind(), data)
    items = {item: k for k, item in enumerate(every_kind().column_names[1:9])}
    reader = parquet.ParquetRows(str(data), data.open("rb"), items, warn=lambda _: None)
    try:
        [(_, batch)] = list(reader.batches(lambda _: None))
        fast = reader.csv(batch)
        slow = parquet._csv(reader.texts(batch))
    finally:
        reader.close()
    assert fast is not None
    assert list(csv.reader(io.StringIO(fast.decode()))) == list(
        csv.reader(io.StringIO(slow.decode()))
    )
    assert fast.splitlines()[0] == b"7,yes,daily,no,true,no,2,snort;inject,,x"


def test_cells_that_need_quotes_score_as_in_csv(tmp_path: Path) -> None:
    """A comma, a quote or a line break in a cell (an id, here) sends that batch the
    slow way; every row still scores as the same record in CSV, numbered by row."""
    ids = ["plain", 'say "hi"', "a,b", "two\nlines", "cr\rhere", "last"]
    rows = [[rid, "yes", "no", "no"] for rid in ids]
    pq.write_table(
        pa.table({k: [r[n] for r in rows] for n, k in enumerate(HEADER)}), tmp_path / "in.parquet"
    )
    with (tmp_path / "in.csv").open("w", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows([HEADER, *rows])
    code, stdout, stderr = score(str(tmp_path / "in.parquet"), "--format", "jsonl")
    code_csv, stdout_csv, _ = score(str(tmp_path / "in.csv"), "--format", "jsonl")
    assert code == code_csv == ExitCode.OK, stderr
    ours = [json.loads(line) for line in stdout.splitlines()]
    theirs = [json.loads(line) for line in stdout_csv.splitlines()]
    assert [r["respondent_id"] for r in ours] == ids
    assert [r.pop("source") for r in ours] == [
        f"{tmp_path / 'in.parquet'}:{n}" for n in range(1, 7)
    ]
    for record in theirs:
        record.pop("source")
    assert ours == theirs
