"""Every released questionnaire version ships and keeps working (issue #10, part 1).

The sessions in tests/assets/sessions-1.0.0 were saved by ketscreen before 1.1.0
existed; their expected results were written by that code. They must open, report and
score exactly as before: same band, counts and flags.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ketscreen import load_questionnaire, score
from ketscreen.cli import app
from ketscreen.core.model import Questionnaire
from ketscreen.errors import ExitCode
from ketscreen.io.fhir import questionnaire_to_fhir, response_to_fhir
from ketscreen.io.questionnaires import builtin_path, find, shipped, versions
from ketscreen.io.session_store import SessionStore
from ketscreen.ui.reports import ReportFormat, render_report
from tests.conftest import ASSETS, full_answers, full_answers_100

runner = CliRunner()
OLD = ASSETS / "sessions-1.0.0"
EXPECTED: dict[str, dict[str, Any]] = json.loads((OLD / "expected.json").read_text())
UNFINISHED = {"20261120-100400-eeeee", "20261120-100600-ggggg"}
SAME = ("band", "lower_bound", "criteria_count", "warning_signs", "frequency", "flags")
SHA_100 = "6165d3f70c099aa2596de9aaae92fadfdc48f98528e17ebb49f06881ec9c8f20"


@pytest.fixture
def old_sessions(isolated_env: Path) -> SessionStore:
    folder = isolated_env / "sessions"
    folder.mkdir(mode=0o700)
    for path in OLD.glob("2026*.json"):
        shutil.copy(path, folder / path.name)
    return SessionStore(folder)


# -- the files --------------------------------------------------------------------------


def test_both_versions_ship_side_by_side_and_1_0_0_is_unchanged() -> None:
    assert [(s.id, s.version) for s in versions("ketamine")] == [
        ("ketamine", "1.0.0"),
        ("ketamine", "1.1.0"),
    ]
    assert load_questionnaire(version="1.0.0").sha256 == SHA_100
    assert builtin_path().name == "ketamine-1.1.0.yaml"
    assert load_questionnaire().version == "1.1.0"  # new checks use the newest
    assert all(s.path.name == f"{s.id}-{s.version}.yaml" for s in shipped())


def test_the_registry_reads_ids_and_versions_from_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ketscreen.io import questionnaires

    for entry in shipped():
        shutil.copy(entry.path, tmp_path / entry.path.name)
    other = (tmp_path / "ketamine-1.1.0.yaml").read_text()
    other = other.replace("id: ketamine\nversion: 1.1.0", "id: sds_ketamine\nversion: 0.9.10")
    (tmp_path / "whatever-name.yaml").write_text(other)
    monkeypatch.setattr(questionnaires, "data_dir", lambda: tmp_path)
    questionnaires.shipped.cache_clear()
    try:
        assert [e.label for e in versions("sds_ketamine")] == ["sds_ketamine 0.9.10"]
        assert find("sds_ketamine").path.name == "whatever-name.yaml"
        assert questionnaires.instruments() == ("ketamine", "sds", "sds_ketamine")
        assert load_questionnaire(instrument="sds_ketamine").id == "sds_ketamine"
    finally:
        questionnaires.shipped.cache_clear()


def test_an_unknown_version_is_one_usage_error_naming_what_ships() -> None:
    for args in (["show", "--version", "2.0"], ["validate", "--version", "2.0"]):
        result = runner.invoke(app, args)
        assert result.exit_code == ExitCode.USAGE
        assert "versions: 1.0.0, 1.1.0" in result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0"])
def test_show_validate_export_and_template_take_a_version(version: str) -> None:
    shown = runner.invoke(app, ["show", "--version", version], env={"COLUMNS": "100"})
    assert f"(ketamine {version})" in shown.stdout
    checked = runner.invoke(app, ["validate", "--version", version])
    assert checked.exit_code == 0 and f"questionnaire ketamine {version}:" in checked.stdout
    exported = runner.invoke(app, ["export", "fhir", "--version", version])
    assert json.loads(exported.stdout)["version"] == version
    template = runner.invoke(app, ["template", "--version", version])
    header = template.stdout.splitlines()[0].split(",")
    assert ("jaundice" in header) is (version == "1.1.0")


def test_validate_checks_every_shipped_version() -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0
    assert "ketamine 1.0.0: 7 sections" in result.stdout
    assert "ketamine 1.1.0: 8 sections" in result.stdout


# -- sessions saved under 1.0.0 ---------------------------------------------------------


@pytest.mark.parametrize("sid", sorted(EXPECTED))
def test_a_1_0_0_session_reports_identically(old_sessions: SessionStore, sid: str) -> None:
    session = old_sessions.load(sid)
    assert (session.questionnaire.version, session.questionnaire.sha256) == ("1.0.0", SHA_100)
    data = json.loads(render_report(session, ReportFormat.JSON))
    expected = EXPECTED[sid]
    for key in (*SAME, "missing", "guidance"):
        assert data["result"][key] == expected[key], key
    if sid in UNFINISHED:  # the one deliberate change: unfinished is not "no flags"
        assert (expected["top_flag_level"], data["result"]["top_flag_level"]) == (
            None,
            "not_assessed",
        )
    else:
        assert data["result"]["top_flag_level"] == expected["top_flag_level"]


def test_1_0_0_sessions_score_in_batch_with_their_own_version(old_sessions: SessionStore) -> None:
    result = runner.invoke(app, ["score", str(old_sessions.folder)])
    assert result.exit_code == 0, result.stderr
    got = list(csv.DictReader(io.StringIO(result.stdout)))
    want = list(csv.DictReader(io.StringIO((OLD / "expected-score.csv").read_text())))
    assert len(got) == len(want) == 8
    for new, old in zip(got, want, strict=True):
        assert new["questionnaire_version"] == "1.0.0"
        assert new["questionnaire_sha256"] == SHA_100
        for key in ("band", "criteria_count", "warning_signs", "frequency", "flags", "missing"):
            assert new[key] == old[key], (new["respondent_id"], key)
        is_unfinished = new["respondent_id"] in ("C-0005", "C-0007")
        assert new["top_flag_level"] == ("not_assessed" if is_unfinished else old["top_flag_level"])


def test_the_sessions_list_reads_old_unfinished_sessions_as_not_assessed(
    old_sessions: SessionStore,
) -> None:
    found, broken = old_sessions.summaries()
    assert not broken
    levels = {s.id: s.top_flag_level for s in found}
    assert {levels[sid] for sid in UNFINISHED} == {"not_assessed"}
    assert levels["20261120-100200-ccccc"] is None  # finished, no flag: none
    assert {s.questionnaire for s in found} == {"ketamine 1.0.0"}


def test_a_1_0_0_session_resumes_and_amends_with_1_0_0(old_sessions: SessionStore) -> None:
    sid = "20261120-100600-ggggg"  # interrupted after 4 answers
    typed = ["", *["2"] * 9, "2", "2"]  # go on: no to the other signs, withdrawal, secrecy
    typed += ["2", "2", "2", "2", "1", "1", "2", "2", "2", "2", "2", "2", "2", "1", "2", ""]
    result = runner.invoke(
        app, ["intake", "--resume", sid, "--region", "UK"], input="\n".join(typed) + "\n\n\n"
    )
    assert result.exit_code == 0, result.stdout[-1500:]
    assert "4 of 30 questions answered so far" in result.stdout
    assert "Question 5 of 30." in result.stdout
    doc = json.loads(old_sessions.path(sid).read_text())
    assert doc["questionnaire"] == {"id": "ketamine", "version": "1.0.0", "sha256": SHA_100}
    assert doc["status"] == "completed"
    assert "jaundice" not in doc["answers"] and len(doc["answers"]) == 30

    amended = runner.invoke(
        app,
        ["intake", "--amend", sid, "--reason", "misheard", "--region", "UK"],
        input="\n4\n1\n\n\n",  # answer 4, more_than_intended: 1 is No
    )
    assert amended.exit_code == 0, amended.stdout[-1500:]
    doc = json.loads(old_sessions.path(sid).read_text())
    assert doc["questionnaire"]["version"] == "1.0.0" and doc["status"] == "amended"
    assert doc["answers"]["more_than_intended"] == "no"


def test_a_1_0_0_session_with_a_crisis_starts_resume_with_a_reminder(
    old_sessions: SessionStore,
) -> None:
    sid = "20261120-100500-fffff"  # completed; self_harm now
    result = runner.invoke(
        app,
        ["intake", "--amend", sid, "--reason", "check", "--region", "UK"],
        input="q\n",
    )
    assert result.exit_code == 0
    out = " ".join(result.stdout.split())
    assert out.index(
        "Earlier in this session the client reported thoughts of suicide or self-harm"
    ) < out.index("amending")
    assert "For the counselor: safety protocol" in out
    assert "Do not leave the client alone." in out
    assert "No safety note was recorded." in out


# -- batch: each record with the version it names ----------------------------------------


def _csv(rows: list[dict[str, object]]) -> str:
    header = sorted({key for row in rows for key in row})
    lines = [",".join(header)]
    for row in rows:
        cells = []
        for key in header:
            value = row.get(key, "")
            cells.append(";".join(value) if isinstance(value, list) else str(value))
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def test_a_version_column_scores_each_row_with_its_version(tmp_path: Path) -> None:
    old = {"respondent_id": "a", "questionnaire_version": "1.0.0", **full_answers_100()}
    new = {"respondent_id": "b", "questionnaire_version": "1.1.0", **full_answers(jaundice="yes")}
    plain = {"respondent_id": "c", "questionnaire_version": "", **full_answers()}
    wrong = {"respondent_id": "d", "questionnaire_version": "1.0.0", **full_answers()}
    unknown = {"respondent_id": "e", "questionnaire_version": "3.1", **full_answers()}
    path = tmp_path / "mixed.csv"
    path.write_text(_csv([old, new, plain, wrong, unknown]))
    result = runner.invoke(app, ["score", str(path), "--format", "jsonl"])
    assert result.exit_code == ExitCode.INVALID_RECORDS
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["respondent_id"] for r in rows] == ["a", "b", "c", "d", "e"]
    assert [r["questionnaire_version"] for r in rows[:4]] == ["1.0.0", "1.1.0", "1.1.0", "1.0.0"]
    assert rows[0]["status"] == "ok" and rows[0]["missing"] == []
    assert rows[1]["flags"] == ["jaundice"]
    assert (
        rows[3]["status"] == "invalid"
        and "not an item of questionnaire ketamine 1.0.0" in (rows[3]["error"])
    )
    assert rows[4]["status"] == "invalid" and "'3.1' is not a version" in rows[4]["error"]


def test_json_records_and_fhir_responses_name_their_version(
    tmp_path: Path, questionnaire: Questionnaire, questionnaire_100: Questionnaire
) -> None:
    records = tmp_path / "r.jsonl"
    records.write_text(
        json.dumps({"respondent_id": "x", "questionnaire_version": "1.0.0", **full_answers_100()})
        + "\n"
        + json.dumps({"respondent_id": "y", "answers": full_answers()})
        + "\n"
    )
    result = runner.invoke(app, ["score", str(records), "--format", "jsonl"])
    assert result.exit_code == 0, result.stdout
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["questionnaire_version"], r["missing"]) for r in rows] == [
        ("1.0.0", []),
        ("1.1.0", []),
    ]
    old = response_to_fhir(
        questionnaire_100, score(questionnaire_100, full_answers_100(craving="yes"))
    )
    new = response_to_fhir(questionnaire, score(questionnaire, full_answers(jaundice="yes")))
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": old}, {"resource": new}],
    }
    path = tmp_path / "b.fhir.json"
    path.write_text(json.dumps(bundle))
    result = runner.invoke(app, ["score", str(path), "--format", "jsonl", "--verify"])
    assert result.exit_code == 0, result.stdout
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["questionnaire_version"] for r in rows] == ["1.0.0", "1.1.0"]
    assert rows[0]["criteria_count"] == 1 and rows[1]["flags"] == ["jaundice"]


def test_columns_that_fit_an_older_version_get_one_warning(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text(_csv([{"respondent_id": "a", **full_answers_100()}] * 3))
    result = runner.invoke(app, ["score", str(path)])
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1
    assert "fit questionnaire ketamine 1.0.0" in warnings[0]
    assert "--version 1.0.0" in warnings[0]
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["questionnaire_version"] for r in rows} == {"1.1.0"}
    again = runner.invoke(app, ["score", str(path), "--version", "1.0.0"])
    assert "Warning" not in again.stderr
    rows = list(csv.DictReader(io.StringIO(again.stdout)))
    assert {(r["questionnaire_version"], r["missing"]) for r in rows} == {("1.0.0", "")}


def test_the_fhir_export_of_each_version_names_it(questionnaire_100: Questionnaire) -> None:
    exported = questionnaire_to_fhir(questionnaire_100)
    assert exported["version"] == "1.0.0"
    assert "jaundice" not in json.dumps(exported)
