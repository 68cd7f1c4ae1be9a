"""CSV and TSV input: messy files as people and spreadsheets write them."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from ketscreen import load_questionnaire
from ketscreen.io.batch import readers
from ketscreen.io.batch.formats import InputError, InputFormat, OutputFormat
from ketscreen.io.batch.runner import Options
from tests.batch_helpers import ASSETS, csv_text, library_record, records, run_text

Q = load_questionnaire(version="1.0.0")  # the asset files hold 1.0.0 records
IDS = list(Q.items)


def parsed_rows(name: str, delimiter: str = ",") -> list[list[str]]:
    """The file's data rows as the csv module reads them (BOM and header removed)."""
    text = (ASSETS / name).read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))[1:]


def answers_of(row: list[str], header: list[str]) -> dict[str, str]:
    return {
        name.strip().lower(): cell
        for name, cell in zip(header, row, strict=False)
        if name.strip().lower() in Q.items
    }


def test_messy_csv_scores_every_good_row_like_the_library_and_names_every_bad_one() -> None:
    warnings: list[str] = []
    data = (ASSETS / "messy.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data  # BOM and CRLF
    out, summary = run_text(Q, data, InputFormat.CSV, warnings=warnings)
    got = records(out)
    text = data.decode("utf-8-sig")
    header = next(csv.reader([text.splitlines()[0]]))
    rows = {row[0]: row for row in parsed_rows("messy.csv") if row and row[0]}
    by_id = {record["respondent_id"]: record for record in got}

    # Blank lines and a row of bare commas are skipped; every other row is one record.
    assert [r["respondent_id"] for r in got] == [f"r{n}" for n in range(1, 7)] + [
        "r7, second visit",
        "r8",
        "r9",
    ]
    assert [r["source"] for r in got] == [
        f"stdin:{line}" for line in (2, 4, 6, 7, 8, 9, 10, 11, 12)
    ]
    for rid in ("r1", "r2", "r3", "r6", "r7, second visit", "r8", "r9"):
        line = by_id[rid]["source"]
        assert by_id[rid] == library_record(Q, answers_of(rows[rid], header), rid, line), rid

    assert by_id["r1"]["band"] == "moderate"  # y, TRUE, 1 and " Yes" are all yes
    assert by_id["r1"]["flags"] == ["urine_blood", "injecting"]  # "snort; Inject"
    assert by_id["r3"]["missing"] == ["craving", "tolerance"]  # declined, Declined
    assert by_id["r3"]["lower_bound"] is True
    assert by_id["r6"]["band"] == "prescribed_only"  # a long row of empty cells is fine
    assert "short: 3 cells, but the header has 32 columns" in by_id["r4"]["error"]
    assert "long: 34 cells, but the header has 32 columns" in by_id["r5"]["error"]
    assert by_id["r8"]["error"].startswith(
        "respondent 'r8', column freq_3m: answered freq_3m, but use_12m is no"
    )
    assert by_id["r9"]["error"] == (
        "respondent 'r9', column freq_3m: 'sometimes' is not an allowed answer; "
        "allowed: never, once_twice, monthly, weekly, daily, declined"
    )
    assert (summary.records, summary.invalid) == (9, 4)
    assert warnings == ["stdin: ignoring unknown columns: 'Clinic Notes'"]


@pytest.mark.parametrize(("name", "delimiter"), [("semicolon.csv", ";"), ("tabs.tsv", "\t")])
def test_delimiters_are_detected_and_multi_select_takes_both_separators(
    name: str, delimiter: str
) -> None:
    out, _ = run_text(Q, (ASSETS / name).read_bytes(), InputFormat.CSV)
    got = records(out)
    header = ["respondent_id", *IDS]
    expected = []
    line = 2
    for row in parsed_rows(name, delimiter):
        expected.append(library_record(Q, answers_of(row, header), row[0], f"stdin:{line}"))
        line += 1 + row[0].count("\n")
    assert got == expected
    assert all(record["status"] == "ok" for record in got)


def test_a_quoted_line_break_keeps_the_line_numbers_of_later_rows() -> None:
    got = records(run_text(Q, (ASSETS / "semicolon.csv").read_bytes(), InputFormat.CSV)[0])
    assert [r["source"] for r in got] == ["stdin:2", "stdin:3", "stdin:4", "stdin:6"]
    assert got[2]["respondent_id"] == "s3\n(second line of a quoted id)"


def test_delimiter_option_wins_over_detection() -> None:
    text = "respondent_id;use_12m;self_harm\nr1;no;no\n"
    out, _ = run_text(Q, text, InputFormat.CSV, Options(OutputFormat.JSONL, delimiter=";"))
    assert records(out)[0]["band"] == "no_recent_use"
    with pytest.raises(InputError, match="no column of the header is an item id"):
        run_text(Q, text, InputFormat.CSV, Options(OutputFormat.JSONL, delimiter="|"))


def test_tsv_input_format_reads_tabs() -> None:
    text = "use_12m\tself_harm\nno\tno\n"
    assert records(run_text(Q, text, InputFormat.TSV)[0])[0]["band"] == "no_recent_use"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the first line is empty"),
        ("\n\nuse_12m\nno\n", "the first line is empty"),
        ("name,age\nx,1\n", "no column of the header is an item id"),
        ("use_12m, USE_12M \nno,no\n", "columns 1 and 2 are both use_12m"),
    ],
)
def test_a_header_that_cannot_work_stops_the_file(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        run_text(Q, text, InputFormat.CSV)


def test_a_header_that_is_not_utf8_stops_the_file_naming_its_line() -> None:
    data = b"use_12m,self_h\xe9rm\nno,no\n"
    with pytest.raises(InputError, match=r"stdin:1: is not UTF-8 text"):
        run_text(Q, data, InputFormat.CSV)


def test_items_without_a_column_are_unanswered() -> None:
    out, _ = run_text(Q, "use_12m\nyes\nno\n", InputFormat.CSV)
    first, second = records(out)
    assert first["band"] == "incomplete"
    assert first["missing"] == IDS[1:]
    assert second["band"] == "no_recent_use" and second["missing"] == ["self_harm"]


def test_a_file_without_use_12m_makes_every_record_invalid() -> None:
    out, summary = run_text(Q, "respondent_id,self_harm\nr1,no\nr2,now\n", InputFormat.CSV)
    assert summary.invalid == 2
    assert records(out)[1]["error"] == (
        "respondent 'r2', column use_12m: is required; allowed: yes, prescribed_only, no"
    )


def test_without_respondent_ids_errors_say_which_record_by_line() -> None:
    out, _ = run_text(Q, "use_12m\nmaybe\n", InputFormat.CSV)
    record = records(out)[0]
    assert record["respondent_id"] == "" and record["source"] == "stdin:2"
    assert record["error"].startswith("record without respondent_id, column use_12m:")


def test_long_values_are_never_echoed() -> None:
    secret = "my name is Alex and I live at 12 Long Road, Springfield"
    text = csv_text(["respondent_id", "use_12m"], [[secret * 2, secret]])
    record = records(run_text(Q, text, InputFormat.CSV)[0])[0]
    assert record["respondent_id"] == secret * 2  # the data itself is kept as it was
    assert secret not in record["error"]
    assert record["error"] == (
        "respondent (a value of 110 characters), column use_12m: "
        "a value of 55 characters is not an allowed answer; allowed: yes, prescribed_only, no"
    )


def _in_blocks(monkeypatch: pytest.MonkeyPatch, size: int, data: bytes) -> list[dict[str, Any]]:
    monkeypatch.setattr(readers, "BLOCK", size)
    return records(run_text(Q, data, InputFormat.CSV)[0])


@pytest.mark.parametrize("name", ["messy.csv", "semicolon.csv"])
@pytest.mark.parametrize("size", [1, 7, 64, 333])
def test_reading_in_small_blocks_cuts_only_between_records(
    monkeypatch: pytest.MonkeyPatch, name: str, size: int
) -> None:
    data = (ASSETS / name).read_bytes()
    whole = records(run_text(Q, data, InputFormat.CSV)[0])
    assert _in_blocks(monkeypatch, size, data) == whole


def test_an_unbalanced_quote_is_left_to_the_csv_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "MAX_RECORD", 40)
    rows = "".join(f"r{n},no,no\n" for n in range(10))
    got = _in_blocks(
        monkeypatch, 16, f'respondent_id,use_12m,self_harm\nr0,"no,no\n{rows}'.encode()
    )
    assert len(got) >= 1 and got[-1]["respondent_id"] == "r9"


def test_a_record_longer_than_the_limit_stops_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "MAX_RECORD", 40)
    with pytest.raises(InputError, match="stdin:2: a record longer than"):
        _in_blocks(monkeypatch, 16, b"use_12m\n" + b"x" * 100)


def test_csv_output_quotes_what_needs_quoting() -> None:
    text = csv_text(
        ["respondent_id", "use_12m", "self_harm"], [['a,"b"', "no", "no"], ["c", "no", "?"]]
    )
    out, _ = run_text(Q, text, InputFormat.CSV, Options(OutputFormat.CSV))
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[1][:4] == ['a,"b"', "stdin:2", "ok", "no_recent_use"]
    assert rows[2][2] == "invalid" and "'?' is not an allowed answer" in rows[2][11]


def test_the_last_line_needs_no_line_break_and_a_trailing_delimiter_is_harmless() -> None:
    out, _ = run_text(
        Q, "respondent_id,use_12m,self_harm,\r\nr1,no,no,\r\nr2,no,now", InputFormat.CSV
    )
    assert [(r["respondent_id"], r["top_flag_level"]) for r in records(out)] == [
        ("r1", None),
        ("r2", "emergency"),
    ]


def test_a_cell_too_large_for_the_csv_module_makes_only_its_record_invalid() -> None:
    text = 'respondent_id,use_12m\nr1,no\n"' + "x" * 200_000 + '",no\nr3,no\n'
    out, summary = run_text(Q, text, InputFormat.CSV)
    got = records(out)
    assert [(r["source"], r["status"]) for r in got] == [
        ("stdin:2", "ok"),
        ("stdin:3", "invalid"),
        ("stdin:4", "ok"),
    ]
    assert "a cell is longer than 131,072 characters" in got[1]["error"]
    assert summary.invalid == 1
