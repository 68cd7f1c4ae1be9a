"""`ketscreen report SESSION --format fhir`: an intake session as a QuestionnaireResponse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from typer.testing import CliRunner

from ketscreen.cli import app
from ketscreen.core.model import Questionnaire
from ketscreen.core.normalize import normalize_answers
from ketscreen.io.fhir import compare_scores, responses_from_fhir
from ketscreen.io.session_store import SessionStore
from ketscreen.io.sessions import Session
from ketscreen.ui.reports import ReportFormat, format_for_path, render_report
from tests.conftest import full_answers_100 as full_answers


@pytest.fixture
def questionnaire(questionnaire_100: Questionnaire) -> Questionnaire:
    """These transcripts and layouts were written for 1.0.0, which still ships and must
    keep working; 1.1.0's own screens are covered in tests/test_content_1_1.py."""
    return questionnaire_100


runner = CliRunner()
SID = "20261121-100000-abcde"


@pytest.fixture
def amended(questionnaire: Questionnaire) -> Session:
    session = Session.start(SID, questionnaire, "C-0042", "Sam", at="2026-11-21T10:00:00Z")
    answers = full_answers(craving="yes", tolerance="declined", routes=["snort", "inject"])
    session.record_answers(normalize_answers(questionnaire, answers), at="2026-11-21T10:05:00Z")
    session.complete(at="2026-11-21T10:06:00Z")
    session.amend("time_spent", "yes", "client clarified", at="2026-11-21T10:09:00Z")
    return session


def test_a_session_as_a_questionnaire_response(
    questionnaire: Questionnaire, amended: Session
) -> None:
    data = json.loads(render_report(amended, ReportFormat.FHIR))
    QuestionnaireResponse.model_validate(data)
    assert data["id"] == SID
    assert (data["status"], data["authored"]) == ("amended", "2026-11-21T10:09:00Z")
    assert data["subject"]["identifier"]["value"] == "C-0042"
    assert data["author"] == {"display": "Sam"}
    [record] = list(responses_from_fhir(questionnaire, data, "r.fhir.json"))
    assert record.error is None and record.respondent_id == "C-0042"
    assert record.answers == amended.answers
    result = amended.result()
    assert result is not None and result.criteria_count == 2
    assert compare_scores(result, record.stored) == []


def test_report_command_writes_fhir(amended: Session) -> None:
    SessionStore().save(amended, new=True)
    result = runner.invoke(app, ["report", SID, "--format", "fhir"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["resourceType"] == "QuestionnaireResponse"


def test_report_format_from_a_fhir_file_name(amended: Session, tmp_path: Path) -> None:
    assert format_for_path(Path("r.FHIR.json")) is ReportFormat.FHIR
    assert format_for_path(Path("r.json")) is ReportFormat.JSON
    SessionStore().save(amended, new=True)
    out = tmp_path / "intake.fhir.json"
    result = runner.invoke(app, ["report", SID, "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["id"] == SID
