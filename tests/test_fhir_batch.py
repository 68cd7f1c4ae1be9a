"""`ketscreen score` with FHIR: QuestionnaireResponses out, QuestionnaireResponses in, --verify."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ketscreen import load_questionnaire, score
from ketscreen.cli import app
from ketscreen.core.model import Questionnaire
from ketscreen.errors import ExitCode
from ketscreen.io.batch.formats import InputFormat, OutputFormat
from ketscreen.io.batch.runner import Options, _Sink
from ketscreen.io.batch.writers import FhirWriter
from ketscreen.io.fhir import bundle, response_to_fhir
from tests.batch_helpers import records, run_text
from tests.conftest import full_answers
from tests.fhir_helpers import by_link
from tests.strategies import valid_answers

runner = CliRunner()
FHIR_OUT = Options(output=OutputFormat.FHIR)
JSONL_OUT = Options(output=OutputFormat.JSONL)
VERIFY = Options(output=OutputFormat.JSONL, verify=True)
Q = load_questionnaire()


def as_records(q: Questionnaire, answers: list[dict[str, Any]]) -> str:
    return json.dumps([{"respondent_id": f"p{i}", "answers": a} for i, a in enumerate(answers)])


def exported(q: Questionnaire, answers: list[dict[str, Any]]) -> dict[str, Any]:
    out, summary = run_text(q, as_records(q, answers), InputFormat.JSON, FHIR_OUT)
    assert summary.invalid == 0
    data: dict[str, Any] = json.loads(out)
    return data


# -- responses out ------------------------------------------------------------------------


def test_several_records_are_a_bundle_of_responses(questionnaire: Questionnaire) -> None:
    answers = [dict(example.answers) for example in questionnaire.examples]
    data = exported(questionnaire, answers)
    Bundle.model_validate(data)
    assert (data["resourceType"], data["type"]) == ("Bundle", "collection")
    resources = [entry["resource"] for entry in data["entry"]]
    assert len(resources) == len(answers)
    for i, (resource, given_answers) in enumerate(zip(resources, answers, strict=True)):
        QuestionnaireResponse.model_validate(resource)
        assert resource["subject"]["identifier"]["value"] == f"p{i}"
        assert resource["status"] == "completed"
        assert resource["questionnaire"].endswith("/Questionnaire/ketamine|1.1.0")
        result = score(questionnaire, given_answers)
        stored = by_link(resource)
        count = stored.get("result.criteria_count", {}).get("answer", [{}])[0]
        assert count.get("valueInteger") == result.criteria_count


def test_one_record_is_a_bare_response_and_none_an_empty_bundle(
    questionnaire: Questionnaire,
) -> None:
    data = exported(questionnaire, [{"use_12m": "no", "self_harm": "no"}])
    QuestionnaireResponse.model_validate(data)
    assert data["resourceType"] == "QuestionnaireResponse"
    assert exported(questionnaire, []) == {"resourceType": "Bundle", "type": "collection"}


def test_invalid_records_are_operation_outcomes_in_place(questionnaire: Questionnaire) -> None:
    answers = [{"use_12m": "no", "self_harm": "no"}, {"use_12m": "maybe"}]
    out, summary = run_text(questionnaire, as_records(questionnaire, answers), None, FHIR_OUT)
    assert summary.invalid == 1
    data = json.loads(out)
    Bundle.model_validate(data)
    outcome = data["entry"][1]["resource"]
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["diagnostics"].startswith("stdin:1: respondent 'p1', item use_12m")


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ([], "E"),
        ([("a", 1)], "a\n"),
        ([("", 0), ("a", 1), ("", 0)], "a\n"),
        ([("a", 1), ("b", 1)], "H" + "a" + "S" + "b" + "F"),
        ([("aSb", 2)], "H" + "aSb" + "F"),
        ([("a", 1), ("bSc", 2), ("d", 1)], "HaSbScSdF"),
    ],
)
@pytest.mark.parametrize("binary", [True, False])
def test_a_lone_record_waits_until_it_is_known_to_be_alone(
    questionnaire: Questionnaire, blocks: list[tuple[str, int]], expected: str, binary: bool
) -> None:
    writer = FhirWriter(questionnaire)
    writer.separator = "S"
    writer.header = lambda: "H"  # type: ignore[method-assign]
    writer.footer = lambda wrote_rows: "F"  # type: ignore[method-assign]
    writer.empty = lambda: "E"  # type: ignore[method-assign]
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8") if binary else io.StringIO()
    sink = _Sink(out, writer)
    for text, count in blocks:
        sink.block(text.encode(), count)
    sink.close()
    out.flush()
    written = raw.getvalue().decode() if binary else out.getvalue()  # type: ignore[attr-defined]
    assert written == expected


# -- responses in -------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(many=st.lists(valid_answers(Q), min_size=1, max_size=4))
def test_batch_round_trip_gives_the_same_rows(many: list[dict[str, Any]]) -> None:
    first, _ = run_text(Q, as_records(Q, many), InputFormat.JSON, JSONL_OUT)
    fhir, _ = run_text(Q, as_records(Q, many), InputFormat.JSON, FHIR_OUT)
    again, summary = run_text(Q, fhir, None, VERIFY)
    assert summary.invalid == 0
    before, after = records(first), records(again)
    for row in (*before, *after):
        row.pop("source")
    assert after == before


def test_fhir_input_by_name_content_and_option(
    questionnaire: Questionnaire, tmp_path: Path
) -> None:
    one = response_to_fhir(questionnaire, score(questionnaire, full_answers(craving="yes")))
    for name, args in (
        ("a.fhir.json", []),
        ("b.json", []),  # recognised by its content
        ("c.txt", ["--input-format", "fhir"]),
    ):
        path = tmp_path / name
        path.write_text(json.dumps(bundle([one, one]), indent=2), encoding="utf-8")
        result = runner.invoke(app, ["score", str(path), "-f", "jsonl", *args])
        assert result.exit_code == 0, result.stderr
        rows = records(result.stdout)
        assert [r["source"] for r in rows] == [f"{path}:entry 1", f"{path}:entry 2"]
        assert {r["criteria_count"] for r in rows} == {1}
    # standard input: a pretty-printed response is recognised by its resourceType
    result = runner.invoke(app, ["score", "-", "-f", "jsonl"], input=json.dumps(one, indent=2))
    assert result.exit_code == 0, result.stderr
    assert records(result.stdout)[0]["source"] == "stdin"


def test_fhir_input_that_is_not_fhir(tmp_path: Path) -> None:
    patient = tmp_path / "p.fhir.json"
    patient.write_text('{"resourceType": "Patient"}', encoding="utf-8")
    result = runner.invoke(app, ["score", str(patient)])
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr.startswith(f"Error: {patient}: found resourceType 'Patient'; expected")
    array = tmp_path / "a.fhir.json"
    array.write_text("[]", encoding="utf-8")
    result = runner.invoke(app, ["score", str(array)])
    assert result.exit_code == ExitCode.ERROR
    assert "FHIR input is one QuestionnaireResponse or a Bundle of them" in result.stderr


def test_unreadable_responses_are_invalid_records(questionnaire: Questionnaire) -> None:
    good = response_to_fhir(
        questionnaire, score(questionnaire, {"use_12m": "no", "self_harm": "no"}), respondent_id="a"
    )
    other = dict(good, questionnaire="http://example.org/Questionnaire/x|1")
    out, summary = run_text(questionnaire, json.dumps(bundle([good, other])), None, JSONL_OUT)
    assert (summary.records, summary.invalid) == (2, 1)
    rows = records(out)
    assert rows[1]["status"] == "invalid"
    assert rows[1]["error"].startswith(
        "respondent 'a': answers questionnaire a value of 34 characters, not https://"
    )


# -- verify -------------------------------------------------------------------------------


def test_verify_names_every_disagreement_and_exits_3(
    questionnaire: Questionnaire, tmp_path: Path
) -> None:
    result = score(questionnaire, full_answers(craving="yes", tolerance="yes"))
    honest = response_to_fhir(questionnaire, result, respondent_id="h")
    tampered = response_to_fhir(questionnaire, result, respondent_id="t")
    items = by_link(tampered)
    items["result.criteria_count"]["answer"] = [{"valueInteger": 6}]
    items["result.band"]["answer"][0]["valueCoding"]["code"] = "severe"
    path = tmp_path / "in.fhir.json"
    path.write_text(json.dumps(bundle([honest, tampered])), encoding="utf-8")

    plain = runner.invoke(app, ["score", str(path)])
    assert plain.exit_code == 0, plain.stderr  # without --verify, only answers count

    checked = runner.invoke(app, ["score", str(path), "--verify", "-f", "jsonl"])
    assert checked.exit_code == ExitCode.INVALID_RECORDS
    rows = records(checked.stdout)
    assert [r["status"] for r in rows] == ["ok", "invalid"]
    assert rows[1]["error"] == (
        "respondent 't': stored scores disagree with ketscreen's: "
        "criteria_count: stored 6, recomputed 2; band: stored severe, recomputed mild"
    )
    assert "criteria_count: stored 6, recomputed 2" in checked.stderr


def test_verify_needs_fhir_input(questionnaire: Questionnaire, tmp_path: Path) -> None:
    csv_file = tmp_path / "in.csv"
    csv_file.write_text("use_12m,self_harm\nno,no\n", encoding="utf-8")
    result = runner.invoke(app, ["score", str(csv_file), "--verify"])
    assert result.exit_code == ExitCode.USAGE
    assert "--verify compares the scores stored in FHIR QuestionnaireResponses" in result.stderr
    # a JSON file may hold FHIR; when it does not, each record says why it was not verified
    data = '[{"use_12m": "no", "self_harm": "no"}, {"use_12m": "maybe"}]'
    out, summary = run_text(questionnaire, data, None, VERIFY)
    assert summary.invalid == 2
    first, second = records(out)
    assert "not a FHIR QuestionnaireResponse" in first["error"]
    assert "'maybe' is not an allowed answer" in second["error"]  # its own problem first


def test_verify_keeps_the_scoring_error_of_a_response(questionnaire: Questionnaire) -> None:
    """A response answering a question that skip logic did not ask is invalid as it is."""
    resource = response_to_fhir(
        questionnaire, score(questionnaire, full_answers()), respondent_id="x"
    )
    by_link(resource)["use_12m"]["answer"][0]["valueCoding"]["code"] = "no"
    out, summary = run_text(questionnaire, json.dumps(resource), None, VERIFY)
    assert summary.invalid == 1
    assert "freq_3m: answered freq_3m, but use_12m is" in records(out)[0]["error"]
