"""What comes back from a third-party form filler (#13): responses that store only what
the filler computed, "prefer not to say" ticked with other answers, canonicals without a
version. Each is read, scored and reported, never lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ketscreen import score
from ketscreen.cli import app
from ketscreen.core.model import Questionnaire
from ketscreen.errors import ExitCode
from ketscreen.io.fhir import bundle, canonical, response_to_fhir
from ketscreen.io.fhir.common import DATA_ABSENT_SYSTEM, questionnaire_url
from tests.batch_helpers import records
from tests.conftest import full_answers
from tests.fhir_helpers import by_link

runner = CliRunner()


def _answers_only(resource: dict[str, Any]) -> dict[str, Any]:
    """The response as a filler that computes nothing sends it: no result group."""
    resource["item"] = [group for group in resource["item"] if group["linkId"] != "result"]
    return resource


def _write(tmp_path: Path, resources: list[dict[str, Any]]) -> Path:
    path = tmp_path / "in.fhir.json"
    path.write_text(json.dumps(bundle(resources)), encoding="utf-8")
    return path


def test_verify_recomputes_what_a_response_does_not_store(
    questionnaire: Questionnaire, tmp_path: Path
) -> None:
    """Scores a response does not store are recomputed and reported, not disagreements;
    what it does store is still checked."""
    people = [
        full_answers(craving="yes"),
        {"use_12m": "no", "self_harm": "no"},
        {"use_12m": "prescribed_only", **dict.fromkeys(("memory_problems", "self_harm"), "no")},
    ]
    resources = [
        _answers_only(
            response_to_fhir(questionnaire, score(questionnaire, a), respondent_id=f"p{i}")
        )
        for i, a in enumerate(people)
    ]
    counts_only = response_to_fhir(
        questionnaire, score(questionnaire, people[0]), respondent_id="c"
    )
    group = next(g for g in counts_only["item"] if g["linkId"] == "result")
    group["item"] = [i for i in group["item"] if i["linkId"] == "result.criteria_count"]
    wrong = json.loads(json.dumps(counts_only))
    by_link(wrong)["result.criteria_count"]["answer"] = [{"valueInteger": 4}]
    wrong["subject"]["identifier"]["value"] = "w"
    path = _write(tmp_path, [*resources, counts_only, wrong])

    checked = runner.invoke(app, ["score", str(path), "--verify", "-f", "jsonl"])
    assert checked.exit_code == ExitCode.INVALID_RECORDS, checked.stderr
    rows = records(checked.stdout)
    assert [r["status"] for r in rows] == ["ok", "ok", "ok", "ok", "invalid"]
    assert [r["band"] for r in rows[:4]] == ["low", "no_recent_use", "prescribed_only", "low"]
    assert rows[4]["error"] == (
        "respondent 'w': stored scores disagree with ketscreen's: "
        "criteria_count: stored 4, recomputed 1"
    )
    assert "Verified 5 stored result(s)" in checked.stderr
    assert "5 of 5 do not store band: recomputed, not compared." in checked.stderr
    assert "3 of 5 do not store criteria_count" in checked.stderr
    assert "stores no scores" not in checked.stderr


def test_declined_ticked_with_other_answers_keeps_the_other_answers(
    questionnaire: Questionnaire, tmp_path: Path
) -> None:
    """LHC-Forms has no optionExclusive: "prefer not to say" plus "Injected" still raises
    the injecting alert (the safest reading), with a warning; never a lost response."""
    answers = full_answers(routes=["snort", "inject"])
    resource = response_to_fhir(questionnaire, score(questionnaire, answers), respondent_id="r")
    routes = by_link(resource)["routes"]
    routes["answer"].append(
        {"valueCoding": {"system": DATA_ABSENT_SYSTEM, "code": "asked-declined"}}
    )
    path = _write(tmp_path, [_answers_only(resource)])
    result = runner.invoke(app, ["score", str(path), "-f", "jsonl"])
    assert result.exit_code == 0, result.stderr
    (row,) = records(result.stdout)
    assert (row["status"], row["top_flag_level"]) == ("ok", "harm_reduction")
    assert row["flags"] == ["injecting"]
    assert "Read with a warning: 1 record(s):" in result.stderr
    assert (
        "respondent 'r': routes: \"prefer not to say\" was chosen together with other "
        "answers; read as the other answers" in result.stderr
    )


def test_a_canonical_without_version_is_refused_unless_accepted(
    questionnaire: Questionnaire, tmp_path: Path
) -> None:
    resource = response_to_fhir(
        questionnaire, score(questionnaire, full_answers()), respondent_id="u"
    )
    resource["questionnaire"] = questionnaire_url(questionnaire)
    path = _write(tmp_path, [_answers_only(resource)])

    refused = runner.invoke(app, ["score", str(path), "-f", "jsonl"])
    assert refused.exit_code == ExitCode.INVALID_RECORDS
    (row,) = records(refused.stdout)
    assert row["status"] == "invalid"
    assert "without a version" in row["error"]
    assert canonical(questionnaire) in row["error"]
    assert "--version VERSION --accept-unversioned" in row["error"]

    alone = runner.invoke(app, ["score", str(path), "--accept-unversioned"])
    assert alone.exit_code == ExitCode.USAGE
    assert "add --version VERSION" in alone.stderr

    accepted = runner.invoke(
        app,
        [
            "score",
            str(path),
            "-f",
            "jsonl",
            "--version",
            questionnaire.version,
            "--accept-unversioned",
        ],
    )
    assert accepted.exit_code == 0, accepted.stderr
    (row,) = records(accepted.stdout)
    assert (row["status"], row["band"], row["questionnaire_version"]) == (
        "ok",
        "low",
        questionnaire.version,
    )


def test_the_questionnaire_and_outcomes_say_what_they_are(
    questionnaire: Questionnaire, tmp_path: Path
) -> None:
    """A terminology-aware viewer gets a profile, a publisher and readable narrative; an
    invalid record's OperationOutcome has narrative too (no answer in it)."""
    from ketscreen.io.fhir import questionnaire_to_fhir

    resource = questionnaire_to_fhir(questionnaire)
    assert resource["meta"]["profile"] == [
        "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire"
    ]
    assert resource["publisher"] == "ketscreen project"
    assert resource["text"]["status"] == "generated"
    assert "not a diagnosis" in resource["text"]["div"]
    assert f"version {questionnaire.version}" in resource["text"]["div"]
    bad = tmp_path / "bad.json"
    bad.write_text('[{"respondent_id": "x", "use_12m": "maybe"}]', encoding="utf-8")
    out = runner.invoke(app, ["score", str(bad), "-f", "fhir"])
    assert out.exit_code == ExitCode.INVALID_RECORDS
    outcome = json.loads(out.stdout)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["text"]["div"].startswith(
        '<div xmlns="http://www.w3.org/1999/xhtml"><p>Not scored: '
    )
    assert "use_12m" in outcome["text"]["div"]
