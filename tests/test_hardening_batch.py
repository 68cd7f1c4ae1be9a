"""Issue #11, points 3, 4, 9 and 16: batch input that is wrong in one place.

One bad line, overlong cell, repeated key or huge number makes one record invalid (exit
3) and the rest are scored; nothing reaches stdout before the input is known to be
readable, and a batch that has to stop after some output says so in its last record;
CSV cells cannot run as spreadsheet formulas unless --raw-csv asks for raw values.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ketscreen import load_questionnaire
from ketscreen.cli import app
from ketscreen.errors import ExitCode
from ketscreen.io.batch.formats import InputFormat
from tests.batch_helpers import records, run_text

cli = CliRunner()
Q = load_questionnaire()
HEADER = "respondent_id,use_12m,self_harm"
BIG = 200_000  # over the csv module's 128 KB (131,072 characters) cell limit


def score(*args: str, stdin: str | bytes | None = None) -> tuple[int, str, str]:
    result = cli.invoke(app, ["score", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def statuses(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(row["source"], row["status"]) for row in rows]


# -- point 3: one bad record is one invalid record -------------------------------------------


@pytest.mark.parametrize(
    "bad_line",
    [b"r2,n\xe9,no", b'"r2",n\xe9,no', b'"r2\xff\n still r2",no,no'],
    ids=["plain", "quoted", "multi-line quoted"],
)
def test_a_csv_line_that_is_not_utf8_is_one_invalid_record(tmp_path: Path, bad_line: bytes) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(HEADER.encode() + b"\nr1,no,no\n" + bad_line + b"\nr3,no,now\n")
    code, out, err = score(str(path))
    assert code == ExitCode.INVALID_RECORDS, err
    rows = csv_rows(out)
    last = 4 if b"\n" not in bad_line else 5
    assert statuses(rows) == [
        (f"{path}:2", "ok"),
        (f"{path}:3", "invalid"),
        (f"{path}:{last}", "ok"),
    ]
    assert "is not UTF-8 text" in rows[1]["error"]
    assert rows[2]["top_flag_level"] == "emergency"
    assert "Traceback" not in err and "unexpected problem" not in err


def test_a_jsonl_line_that_is_not_utf8_is_one_invalid_record() -> None:
    data = b'{"use_12m": "no"}\n{"use_12m": "n\xe9"}\n{"use_12m": "no", "self_harm": "no"}\n'
    out, summary = run_text(Q, data, InputFormat.JSONL)
    got = records(out)
    assert statuses(got) == [("stdin:1", "ok"), ("stdin:2", "invalid"), ("stdin:3", "ok")]
    assert "is not UTF-8 text" in got[1]["error"] and summary.invalid == 1


@pytest.mark.parametrize("quote", ["", '"'], ids=["unquoted", "quoted"])
def test_a_cell_over_128_kb_in_an_ignored_column_makes_only_its_record_invalid(
    tmp_path: Path, quote: str
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        f"{HEADER},comment\nr1,no,no,short\nr2,no,no,{quote}{'x' * BIG}{quote}\nr3,no,no,\n"
    )
    code, out, err = score(str(path))
    assert code == ExitCode.INVALID_RECORDS, err
    rows = csv_rows(out)
    assert statuses(rows) == [(f"{path}:2", "ok"), (f"{path}:3", "invalid"), (f"{path}:4", "ok")]
    assert "a cell is longer than 131,072 characters" in rows[1]["error"]


def test_a_stray_quote_does_not_swallow_the_records_after_it(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    lines = [f"r{n},no,no" for n in range(3, 3000)]
    path.write_text(f'{HEADER}\nr1,no,no\n"r2,no,no {"x" * 100}\n' + "\n".join(lines) + "\n")
    code, out, _ = score(str(path))
    assert code == ExitCode.INVALID_RECORDS
    rows = csv_rows(out)
    assert [row["respondent_id"] for row in rows if row["status"] == "ok"][:3] == ["r1", "r3", "r4"]
    assert rows[-1]["respondent_id"] == "r2999" and rows[-1]["status"] == "ok"


def test_a_header_over_128_kb_is_an_ignored_unknown_column(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(f"{HEADER},{'n' * BIG}\nr1,no,no,\n")
    code, out, err = score(str(path))
    assert code == ExitCode.OK, err
    assert statuses(csv_rows(out)) == [(f"{path}:2", "ok")]
    assert f"ignoring unknown columns: (a name of {BIG} characters)" in err


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_input_that_cannot_be_read_after_output_began_ends_it_with_a_marked_record(
    tmp_path: Path, fmt: str, workers: str
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(f"{HEADER}\nr1,no,no\nr2,no,no\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,age\nx,1\n")
    later = tmp_path / "later.csv"
    later.write_text(f"{HEADER}\nr9,no,no\n")
    code, out, err = score(str(good), str(bad), str(later), "-f", fmt, "-j", workers)
    assert code == ExitCode.ERROR
    if fmt == "csv":
        rows: list[dict[str, Any]] = csv_rows(out)
    elif fmt == "jsonl":
        rows = records(out)
    else:
        rows = json.loads(out)  # still one whole JSON document
    assert [row["respondent_id"] for row in rows[:2]] == ["r1", "r2"]
    assert len(rows) == 3 and (rows[2]["source"], rows[2]["status"]) == (str(bad), "invalid")
    assert rows[2]["error"].startswith("the batch stopped here, unfinished: ")
    assert "no column of the header is an item id" in rows[2]["error"]
    assert err.startswith(f"Error: {bad}:1: no column of the header is an item id")
    assert "the output ends with a record saying where it stopped" in err


def test_an_input_that_cannot_be_read_after_output_began_leaves_no_o_file(
    tmp_path: Path,
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(f"{HEADER}\nr1,no,no\nr2,no,no\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,age\nx,1\n")
    target = tmp_path / "scored.csv"
    code, out, err = score(str(good), str(bad), "-o", str(target))
    assert code == ExitCode.ERROR and out == ""
    assert err.startswith(f"Error: {bad}:1: no column of the header is an item id")
    assert err.rstrip().endswith("; nothing was written")
    assert not target.exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.csv",
        "good.csv",
    ]


# -- point 4: nothing on stdout before the input is known ------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"name,age\nx,1\n", b"use_12m,self_h\xe9rm\nno,no\n", b""],
    ids=["no item column", "header not UTF-8", "empty"],
)
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_an_unreadable_input_leaves_stdout_empty(tmp_path: Path, content: bytes, fmt: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    code, out, err = score(str(path), "-f", fmt)
    assert (code, out) == (ExitCode.ERROR, "")
    assert err.startswith(f"Error: {path}")


def test_a_header_only_file_still_gets_a_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(f"{HEADER}\n")
    code, out, _ = score(str(path))
    assert code == ExitCode.OK
    assert out.startswith("respondent_id,source,status,") and out.count("\n") == 1
    code, out, _ = score(str(path), "-f", "json")
    assert (code, json.loads(out)) == (ExitCode.OK, [])


# -- point 9: CSV cells a spreadsheet would run ------------------------------------------------

FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1)", '=HYPERLINK("http://x")', "1=1"]


def formula_input(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join(json.dumps({"respondent_id": rid, "use_12m": "no"}) + "\n" for rid in FORMULAS)
    )
    return path


def test_csv_output_neutralizes_cells_that_start_a_formula(tmp_path: Path) -> None:
    code, out, _ = score(str(formula_input(tmp_path)))
    assert code == ExitCode.OK
    ids = [row["respondent_id"] for row in csv_rows(out)]
    assert ids == ["'=1+1", "'+1", "'-1", "'@SUM(A1)", '\'=HYPERLINK("http://x")', "1=1"]


@pytest.mark.parametrize(
    ("cell", "written"),
    [("\tx", "'\tx"), ("\rx", "\\x0dx"), ("x\x1b[2J", "x\\x1b[2J"), ("a-b", "a-b")],
)
def test_tab_cr_and_control_characters_are_guarded_in_any_cell(cell: str, written: str) -> None:
    from ketscreen.core.compiled import invalid_row
    from ketscreen.io.batch.writers import CsvWriter

    row = invalid_row(cell, cell, cell)
    (line,) = csv.reader(io.StringIO(CsvWriter(Q).rows([row]), newline=""))
    assert line[:2] == [written, written] and line[11] == written
    (raw,) = csv.reader(io.StringIO(CsvWriter(Q, raw=True).rows([row]), newline=""))
    assert raw[:2] == [cell, cell]


def test_a_file_name_that_starts_a_formula_is_neutralized_also_in_the_errors_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("=cmd.csv").write_text("respondent_id,use_12m\n@x,maybe\n")
    code, out, _ = score("=cmd.csv", "--errors", "e.csv")
    assert code == ExitCode.INVALID_RECORDS
    (row,) = csv_rows(out)
    assert (row["respondent_id"], row["source"], row["status"]) == ("'@x", "'=cmd.csv:2", "invalid")
    (bad,) = csv_rows(Path("e.csv").read_text())
    assert (bad["respondent_id"], bad["source"]) == ("'@x", "'=cmd.csv:2")


def test_raw_csv_writes_the_cells_exactly_as_read(tmp_path: Path) -> None:
    code, out, _ = score(str(formula_input(tmp_path)), "--raw-csv")
    assert code == ExitCode.OK
    assert [row["respondent_id"] for row in csv_rows(out)] == FORMULAS


def test_json_output_keeps_the_values_as_they_are(tmp_path: Path) -> None:
    code, out, _ = score(str(formula_input(tmp_path)), "-f", "jsonl")
    assert code == ExitCode.OK
    assert [row["respondent_id"] for row in records(out)] == FORMULAS


# -- point 16: JSON records ---------------------------------------------------------------------


def test_a_5000_digit_number_in_jsonl_is_named_as_such() -> None:
    data = '{"use_12m": "no"}\n{"respondent_id": ' + "9" * 5000 + ', "use_12m": "no"}\n'
    out, summary = run_text(Q, data, InputFormat.JSONL)
    first, second = records(out)
    assert first["status"] == "ok" and second["status"] == "invalid"
    assert "a number has 5,000 digits" in second["error"]
    assert "nested" not in second["error"]


def test_a_5000_digit_number_in_a_json_array_is_one_invalid_record() -> None:
    data = '[{"use_12m": "no"},\n{"use_12m": "no", "x": -' + "9" * 5000 + '},\n{"use_12m": "no"}]'
    out, summary = run_text(Q, data, InputFormat.JSON)
    assert statuses(records(out)) == [("stdin:1", "ok"), ("stdin:2", "invalid"), ("stdin:3", "ok")]
    assert "a number has 5,001 digits" in records(out)[1]["error"] and summary.invalid == 1


@pytest.mark.parametrize(
    "record",
    [
        '{"use_12m": "no", "use_12m": "yes"}',
        '{"respondent_id": "a", "answers": {"self_harm": "now", "self_harm": "no"}}',
        '{"respondent_id": "a", "respondent_id": "b", "use_12m": "no"}',
    ],
)
@pytest.mark.parametrize("fmt", [InputFormat.JSONL, InputFormat.JSON])
def test_a_repeated_key_makes_the_record_invalid(record: str, fmt: InputFormat) -> None:
    good = '{"use_12m": "no"}'
    data = f"{good}\n{record}\n" if fmt is InputFormat.JSONL else f"[{good},\n{record}]"
    out, summary = run_text(Q, data, fmt)
    first, second = records(out)
    assert first["status"] == "ok" and second["status"] == "invalid"
    assert "appears twice; keep one" in second["error"] and summary.invalid == 1


def test_a_single_json_record_with_a_repeated_key_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text('{"use_12m": "no", "use_12m": "yes"}')
    code, out, _ = score(str(path), "-f", "jsonl")
    assert code == ExitCode.INVALID_RECORDS
    assert "'use_12m' appears twice" in records(out)[0]["error"]


def test_items_outside_answers_are_named_as_such_not_as_unknown_keys() -> None:
    warnings: list[str] = []
    data = json.dumps({"respondent_id": "a", "answers": {"use_12m": "no"}, "self_harm": "now"})
    out, summary = run_text(Q, data + "\n", InputFormat.JSONL, warnings=warnings)
    (row,) = records(out)
    assert row["status"] == "invalid" and summary.invalid == 1
    assert row["error"] == (
        "respondent 'a': item 'self_harm' outside 'answers'; put every answer inside 'answers'"
    )
    assert not any("unknown keys" in warning for warning in warnings)


def test_other_keys_beside_answers_are_still_unknown_keys() -> None:
    warnings: list[str] = []
    data = json.dumps({"respondent_id": "a", "answers": {"use_12m": "no"}, "site": "north"})
    out, _ = run_text(Q, data + "\n", InputFormat.JSONL, warnings=warnings)
    assert records(out)[0]["status"] == "ok"
    assert warnings == ["stdin: ignoring unknown keys: 'site'"]
