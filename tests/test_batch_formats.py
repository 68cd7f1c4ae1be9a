"""Every format member has its reader or writer (STYLE.md item 6), and the engine's edges."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from ketscreen import load_questionnaire, score
from ketscreen.core.compiled import Scorer, invalid_row, quote, row_from_result
from ketscreen.io.batch.formats import InputFormat, OutputFormat, TemplateFormat, assert_never
from ketscreen.io.batch.jobs import CsvJob, CsvPlan, Processor
from ketscreen.io.batch.writers import columns, writer_for
from ketscreen.io.fhir import response_to_fhir
from tests.batch_helpers import ASSETS, records, run_text
from tests.conftest import full_answers

Q = load_questionnaire()
ROWS = [
    row_from_result("r,1", "in.csv:2", score(Q, full_answers(craving="yes", routes="inject"))),
    invalid_row("r2", "in.csv:3", 'bad, "x"'),
]


def parse(fmt: OutputFormat, text: str) -> list[dict[str, object]]:
    if fmt is OutputFormat.CSV:
        return list(csv.DictReader(io.StringIO(text)))
    if fmt is OutputFormat.JSONL:
        return [json.loads(line) for line in text.splitlines()]
    return list(json.loads(text))


# FHIR writes resources, not these columns: tests/test_fhir_batch.py checks it; Parquet is
# binary, with its columns checked in tests/test_parquet.py.
COLUMN_FORMATS = [
    fmt for fmt in OutputFormat if fmt not in (OutputFormat.FHIR, OutputFormat.PARQUET)
]


@pytest.mark.parametrize("fmt", COLUMN_FORMATS)
def test_every_output_format_writes_every_column_in_order(fmt: OutputFormat) -> None:
    writer = writer_for(fmt, Q)
    first, second = writer.rows(ROWS[:1]), writer.rows(ROWS[1:])
    text = writer.header() + first + writer.separator + second + writer.footer(True)
    got = parse(fmt, text)
    assert [list(record) for record in got] == [list(columns(Q))] * 2
    ok, bad = got
    assert ok["respondent_id"] == "r,1" and bad["error"] == 'bad, "x"'
    assert ok["questionnaire_sha256"] == Q.sha256
    flags = ok["flags"] if fmt is not OutputFormat.CSV else str(ok["flags"]).split(";")
    assert flags == ["injecting"]
    empty = writer.header() + writer.footer(False)
    assert parse(fmt, empty) == []


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_output_format_from_a_file_name(fmt: OutputFormat) -> None:
    assert OutputFormat.for_name(f"out.{fmt.value}") is fmt
    assert OutputFormat.for_name("OUT." + fmt.value.upper()) is fmt


def test_names_that_say_nothing_about_the_format() -> None:
    assert OutputFormat.for_name("out.txt") is None
    assert OutputFormat.for_name("out.tsv") is None
    assert InputFormat.for_name("answers") is None


SAMPLES = {
    InputFormat.CSV: "respondent_id,use_12m,self_harm\nr1,no,now\n",
    InputFormat.TSV: "respondent_id\tuse_12m\tself_harm\nr1\tno\tnow\n",
    InputFormat.JSONL: '{"respondent_id": "r1", "use_12m": "no", "self_harm": "now"}\n',
    InputFormat.JSON: '[{"respondent_id": "r1", "use_12m": "no", "self_harm": "now"}]',
    InputFormat.FHIR: json.dumps(
        response_to_fhir(Q, score(Q, {"use_12m": "no", "self_harm": "now"}), respondent_id="r1")
    ),
}


def parquet_sample() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(
        pa.table({"respondent_id": ["r1"], "use_12m": ["no"], "self_harm": ["now"]}), buffer
    )
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", list(InputFormat))
def test_every_input_format_reads_a_record(fmt: InputFormat, tmp_path: Path) -> None:
    if fmt is InputFormat.SESSION:
        from tests.test_batch_json import session_text

        data = session_text("r1", {"use_12m": "no", "self_harm": "now"})
    else:
        data = parquet_sample() if fmt is InputFormat.PARQUET else SAMPLES[fmt]
        assert InputFormat.for_name(f"x.{fmt.value}") is fmt
    (record,) = records(run_text(Q, data, fmt)[0])
    assert (record["respondent_id"], record["top_flag_level"]) == ("r1", "emergency")


def test_assert_never_is_only_for_the_impossible() -> None:
    with pytest.raises(AssertionError, match="unhandled format"):
        assert_never("xml")  # type: ignore[arg-type]


def test_every_template_format_is_known() -> None:
    assert {fmt.value for fmt in TemplateFormat} == {"csv", "jsonl", "yaml"}


# -- the compiled engine's edges -------------------------------------------------------------


def test_quote_measures_long_values() -> None:
    assert quote("short") == "'short'"
    assert quote("x" * 41) == "(a value of 41 characters)"


def test_negative_weights_send_every_record_to_the_library() -> None:
    text = (ASSETS / "generic.yaml").read_bytes().replace(b"weight: 0}", b"weight: -2}")
    from ketscreen.io.questionnaires import parse_questionnaire

    negative = parse_questionnaire(text, "negative.yaml")
    scorer = Scorer(negative)
    columns = tuple((i, i) for i in range(len(scorer.items)))
    rows = [["yes", "a", "yes", "no", "low", "yes"], ["no", "", "", "", "", ""]]
    got = scorer.score_rows(columns, rows, ["x", "y"], ["s:1", "s:2"])
    expected = [
        row_from_result(rid, src, score(negative, dict(zip(negative.items, row, strict=True))))
        for row, rid, src in zip(rows, ["x", "y"], ["s:1", "s:2"], strict=True)
    ]
    assert got == expected
    assert [r.band for r in got] == ["incomplete", "none"]  # a total of -1 is in no band


def test_processor_scores_an_empty_block() -> None:
    processor = Processor(Q, OutputFormat.CSV)
    plan = CsvPlan(",", 1, ((0, 0),), None)
    result = processor.run(CsvJob("x.csv", plan, 2, b""))
    assert (result.records, result.text) == (0, b"")
