"""`score` and `template` for any installed instrument: `--instrument`, and score columns
named after the instrument's own scores (DESIGN.md "Response records")."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ketscreen import load_questionnaire, score
from ketscreen.cli import app
from ketscreen.errors import ExitCode
from ketscreen.io.batch.formats import InputFormat, OutputFormat, UsageProblem
from ketscreen.io.batch.runner import Options
from ketscreen.io.batch.versions import VersionSet
from ketscreen.io.questionnaires import builtin_path
from tests.batch_helpers import ASSETS, records, run_text

cli = CliRunner()
SDS = load_questionnaire(instrument="sds")
KETAMINE = load_questionnaire()
SDS_ITEMS = ["sds_control", "sds_anxious", "sds_worry", "sds_wish_stop", "sds_difficulty"]
BEFORE = ["respondent_id", "source", "status", "band", "lower_bound"]
AFTER = [
    "top_flag_level",
    "flags",
    "missing",
    "error",
    "questionnaire",
    "questionnaire_version",
    "questionnaire_sha256",
]
KETAMINE_COLUMNS = [*BEFORE, "criteria_count", "warning_signs", "frequency", *AFTER]
SDS_COLUMNS = [*BEFORE, "sds_total", *AFTER]
SDS_CSV = (
    "respondent_id," + ",".join(SDS_ITEMS) + "\n"
    "a1,sometimes,never,often,always,quite_difficult\n"
    "a2,never,never,never,never,not_difficult\n"
    "a3,often,,often,often,very_difficult\n"
    "a4,often,maybe,often,often,very_difficult\n"
)


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = cli.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def sds_file(tmp_path: Path) -> Path:
    path = tmp_path / "sds.csv"
    path.write_text(SDS_CSV)
    return path


def test_sds_csv_output_has_the_common_columns_and_its_own_score(sds_file: Path) -> None:
    code, out, err = invoke("score", "--instrument", "sds", str(sds_file))
    assert code == ExitCode.INVALID_RECORDS, err
    header, *rows = list(csv.reader(io.StringIO(out)))
    assert header == SDS_COLUMNS
    got = [dict(zip(header, row, strict=True)) for row in rows]
    assert [(r["respondent_id"], r["status"], r["band"], r["sds_total"]) for r in got] == [
        ("a1", "ok", "total_no_cutoff", "7"),
        ("a2", "ok", "total_no_cutoff", "0"),
        ("a3", "ok", "incomplete", "8"),
        ("a4", "invalid", "", ""),
    ]
    assert got[2]["missing"] == "sds_anxious"
    assert "sds_anxious" in got[3]["error"] and "'maybe'" in got[3]["error"]
    assert {(r["questionnaire"], r["questionnaire_version"]) for r in got} == {("sds", "1.0.0")}
    assert {r["questionnaire_sha256"] for r in got} == {SDS.sha256}
    assert "Bands: incomplete 1, total_no_cutoff 2" in err


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_sds_json_output_names_its_score(sds_file: Path, fmt: str) -> None:
    code, out, _ = invoke("score", "--instrument", "sds", "-f", fmt, str(sds_file))
    assert code == ExitCode.INVALID_RECORDS
    got = records(out) if fmt == "jsonl" else json.loads(out)
    assert [list(record) for record in got] == [SDS_COLUMNS] * 4
    assert [record["sds_total"] for record in got] == [7, 0, 8, None]
    assert "criteria_count" not in got[0]


def _result_items(resource: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    pending = list(resource.get("item", []))
    while pending:
        item = pending.pop()
        found[item["linkId"]] = item.get("answer")
        pending += item.get("item", [])
    return {k: v for k, v in found.items() if k.startswith("result.")}


def test_sds_fhir_output_stores_its_score_and_reads_back(sds_file: Path, tmp_path: Path) -> None:
    code, out, _ = invoke("score", "--instrument", "sds", "-f", "fhir", str(sds_file))
    assert code == ExitCode.INVALID_RECORDS
    entries = [entry["resource"] for entry in json.loads(out)["entry"]]
    assert [e["resourceType"] for e in entries] == ["QuestionnaireResponse"] * 3 + [
        "OperationOutcome"
    ]
    first = _result_items(entries[0])
    assert first["result.sds_total"] == [{"valueInteger": 7}]
    assert first["result.band"][0]["valueCoding"]["code"] == "total_no_cutoff"
    assert not any("criteria_count" in link for link in first)
    # The responses score again, and verify, as the same instrument.
    bundle = tmp_path / "sds.fhir.json"
    bundle.write_text(json.dumps({**json.loads(out), "entry": json.loads(out)["entry"][:3]}))
    code, again, err = invoke("score", "--instrument", "sds", "--verify", str(bundle))
    assert code == ExitCode.OK, err
    rows = list(csv.DictReader(io.StringIO(again)))
    assert [r["sds_total"] for r in rows] == ["7", "0", "8"]


def test_sds_template_lists_its_items_and_scores_back(tmp_path: Path) -> None:
    code, out, _ = invoke("template", "--instrument", "sds")
    assert code == ExitCode.OK
    header, blank = list(csv.reader(io.StringIO(out)))
    assert header == ["respondent_id", *SDS_ITEMS, "questionnaire_version"]
    assert blank[-1] == "1.0.0"
    code, out, _ = invoke("template", "--instrument", "sds", "-f", "jsonl")
    assert list(json.loads(out)) == header
    filled = tmp_path / "filled.csv"
    filled.write_text(",".join(header) + "\nr1,always,always,always,always,impossible,1.0.0\n")
    code, scored, err = invoke("score", "--instrument", "sds", str(filled))
    assert code == ExitCode.OK, err
    (row,) = csv.DictReader(io.StringIO(scored))
    assert (row["band"], row["sds_total"]) == ("total_no_cutoff", "15")


def test_ketamine_columns_are_unchanged_with_mixed_versions(tmp_path: Path) -> None:
    path = tmp_path / "k.csv"
    path.write_text(
        "respondent_id,use_12m,self_harm,questionnaire_version\nr1,no,no,1.0.0\nr2,no,no,1.1.0\n"
    )
    for args in ([], ["--instrument", "ketamine"]):
        code, out, err = invoke("score", *args, str(path))
        assert code == ExitCode.OK, err
        header, *rows = list(csv.reader(io.StringIO(out)))
        assert header == KETAMINE_COLUMNS
        assert [row[header.index("questionnaire_version")] for row in rows] == ["1.0.0", "1.1.0"]


@pytest.mark.parametrize("command", [["score", "-"], ["template"]])
def test_instrument_and_a_questionnaire_file_of_another_is_a_usage_error(
    command: list[str],
) -> None:
    other = str(builtin_path("ketamine"))
    code, out, err = invoke(*command, "--instrument", "sds", "--questionnaire", other, stdin="")
    assert code == ExitCode.USAGE and out == ""
    assert err.splitlines() == [
        f"Error: {other} is questionnaire ketamine, not sds; leave out --instrument, "
        "or give a questionnaire file of sds"
    ]
    # The same file with its own instrument is fine.
    code, _, err = invoke("template", "--instrument", "ketamine", "--questionnaire", other)
    assert code == ExitCode.OK, err


def test_an_instrument_that_does_not_ship_is_a_usage_error() -> None:
    code, _, err = invoke("score", "--instrument", "nope", "-", stdin="")
    assert code == ExitCode.USAGE
    assert "no questionnaire 'nope' ships with this ketscreen (instruments: ketamine, sds)" in err


def test_versions_with_other_scores_cannot_share_an_output() -> None:
    # A made-up ketamine version whose scores are the SDS's.
    other = dataclasses.replace(SDS, id="ketamine", version="9.0.0")
    with pytest.raises(UsageProblem, match="has the scores sds_total, but ketamine 1.1.0 has"):
        VersionSet(KETAMINE, (other,))
    versions = VersionSet.of(KETAMINE, [other])
    assert versions.all == (KETAMINE,)
    text, summary = run_text(
        versions,
        "respondent_id,use_12m,questionnaire_version\nr1,no,9.0.0\nr2,no,\n",
        InputFormat.CSV,
    )
    first, second = records(text)
    assert list(first) == KETAMINE_COLUMNS and summary.invalid == 1
    assert first["error"] == (
        "respondent 'r1': questionnaire_version '9.0.0' questionnaire ketamine 9.0.0 has the "
        "scores sds_total, not those of 1.1.0 (criteria_count, warning_signs, frequency), so "
        "it cannot share this output; score these records in a separate run with --version 9.0.0"
    )
    assert second["status"] == "ok"


def test_a_result_gives_any_score_by_its_id() -> None:
    result = score(SDS, dict.fromkeys(SDS_ITEMS[:4], "often") | {"sds_difficulty": "impossible"})
    assert result.scores == {"sds_total": 11}
    assert result.score("sds_total") == 11 == result.sds_total
    with pytest.raises(AttributeError, match="no attribute 'criteria_count'"):
        _ = result.criteria_count
    ketamine = score(KETAMINE, {"use_12m": "no", "self_harm": "no"})
    assert ketamine.criteria_count is ketamine.scores["criteria_count"]


def test_csv_score_cells_match_json_for_a_questionnaire_with_two_scores() -> None:
    """The CSV fast path writes each score in its own column, empty when absent."""
    generic = load_questionnaire(ASSETS / "generic.yaml")
    data = (
        "respondent_id,used,kinds,sign1,sign2,level\n"
        "g1,yes,a,yes,no,high\ng2,no,,,,\ng3,sometimes,a;b,yes,,mid\ng4,yes,,,no,\n"
        "g5,sometimes,c,,,\n"
    )
    as_csv, _ = run_text(generic, data, InputFormat.CSV, Options(output=OutputFormat.CSV))
    as_json, _ = run_text(generic, data, InputFormat.CSV)
    header, *rows = list(csv.reader(io.StringIO(as_csv)))
    assert header == [*BEFORE, "total", "signs", *AFTER]
    expected = [
        [
            "" if record[name] is None else str(record[name])
            for name in ("respondent_id", "total", "signs")
        ]
        for record in records(as_json)
    ]
    assert [[row[0], row[5], row[6]] for row in rows] == expected
    assert expected == [
        ["g1", "4", "1"],
        ["g2", "", ""],
        ["g3", "2", "1"],
        ["g4", "0", "0"],
        ["g5", "0", ""],
    ]
