"""A real SDC form filler: LHC-Forms (npm lforms) in headless Chromium fills ketscreen's
exported Questionnaire for people on every path, band and alert level, shows the result
it computes itself, and the responses it sends back verify (#13).

`tests/fhir_client/fill.cjs` clicks each answer on screen as a person does, reads what the
form shows for the result items, extracts the QuestionnaireResponse and validates every
resource with Medplum's validator. The tools come from scripts/install-node and
scripts/install-browser; without them the test fails when CI is set (see node_helpers).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ketscreen import load_questionnaire, score
from ketscreen.cli import app
from ketscreen.core.model import DECLINED, Questionnaire
from ketscreen.core.scoring import Result
from ketscreen.io.batch.writers import columns
from ketscreen.io.fhir import bundle, questionnaire_to_fhir
from ketscreen.io.fhir.common import ASKED_DECLINED
from ketscreen.io.fhir.questionnaire import NOT_ASSESSED_DISPLAY
from tests.batch_helpers import records
from tests.conftest import CRITERIA, full_answers
from tests.node_helpers import need, run_node

runner = CliRunner()
_SECTIONS = {section.id: section.items for section in load_questionnaire().sections}
MIND = dict.fromkeys(_SECTIONS["mind"], "no")
BODY = dict.fromkeys(_SECTIONS["body"], "no")
COLUMNS = columns(load_questionnaire())
COMPARED = COLUMNS[COLUMNS.index("band") : COLUMNS.index("missing") + 1]
"""The result columns, from the band to the missing items."""


def _signs(count: int, **more: object) -> dict[str, object]:
    """A person who uses, with the first `count` warning signs."""
    return full_answers(**dict.fromkeys(CRITERIA[:count], "yes"), **more)


def _without(answers: dict[str, object], *items: str) -> dict[str, object]:
    return {k: v for k, v in answers.items() if k not in items}


PEOPLE: dict[str, dict[str, object]] = {
    "no-use": {"use_12m": "no", "self_harm": "no"},
    "no-use-emergency": {"use_12m": "no", "self_harm": "now"},
    "prescribed-bladder": {
        "use_12m": "prescribed_only",
        **MIND,
        "self_harm": "no",
        **BODY,
        "bladder_pain": "yes",
    },
    "prescribed-crisis": {"use_12m": "prescribed_only", **MIND, "self_harm": "past_month"},
    "low-none": _signs(0),
    "mild-harm-reduction": _signs(2, mix_depressants="yes", routes=["snort", "inject"]),
    "moderate-urgent": _signs(4, urine_blood="yes", jaundice="yes"),
    "severe-crisis": _signs(7, self_harm="past_month", k_hole="yes"),
    "severe-emergency": _signs(10, self_harm="now", flank_pain="severe", withdrawal="yes"),
    "at-least-mild": _without(_signs(3), CRITERIA[0], CRITERIA[9]),
    "incomplete": _without(_signs(1), *CRITERIA[-3:]),
    "not-assessed": _without(_signs(1), "self_harm"),
    "declined": {
        **_signs(1, self_harm=DECLINED, freq_3m=DECLINED, craving=DECLINED),
        "routes": ["inject", DECLINED],  # LHC-Forms lets a person tick both
    },
}


def _scored(q: Questionnaire, answers: dict[str, object]) -> dict[str, object]:
    """The answers as ketscreen reads them: declined ticked with others is the others."""
    out = dict(answers)
    routes = out.get("routes")
    if isinstance(routes, list) and DECLINED in routes and len(routes) > 1:
        out["routes"] = [code for code in routes if code != DECLINED]
    return out


def _expected_shown(q: Questionnaire, result: Result) -> dict[str, list[str]]:
    """What the result items should show, in the Questionnaire's own labels."""
    labels = {rule.id: rule.label for rule in q.flags}
    top = result.top_flag_level
    shown = {
        "result.top_flag_level": [q.levels[top].label]
        if top is not None
        else ([NOT_ASSESSED_DISPLAY] if result.not_assessed else []),
        "result.flags": [labels[flag.id] for flag in result.flags],
        "result.band": [q.band_rule.band(result.band).label],
        "result.lower_bound": ["Yes" if result.lower_bound else "No"],
    }
    for sc in q.scores:
        value = result.scores[sc.id]
        if value is not None:
            shown[f"result.{sc.id}"] = [str(value)]
    return shown


def _fhir_answers(answers: dict[str, object]) -> dict[str, object]:
    return {
        k: [ASKED_DECLINED if c == DECLINED else c for c in v]
        if isinstance(v, list)
        else (ASKED_DECLINED if v == DECLINED else v)
        for k, v in answers.items()
    }


def _csv(q: Questionnaire, people: dict[str, dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    items = list(q.items)
    writer.writerow(["respondent_id", *items])
    for name, answers in people.items():
        row = []
        for item in items:
            value = answers.get(item, "")
            row.append(";".join(value) if isinstance(value, list) else str(value))
        writer.writerow([name, *row])
    return out.getvalue()


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    need()
    q = load_questionnaire()
    tmp = tmp_path_factory.mktemp("lforms")
    # a response written by ketscreen itself, for the validator too
    out = runner.invoke(
        app,
        ["score", "-", "-f", "fhir", "--input-format", "json"],
        input=json.dumps([{"respondent_id": "k", **PEOPLE["severe-crisis"]}]),
    )
    assert out.exit_code == 0, out.stderr
    # the published package: the form LHC-Forms renders is its Questionnaire
    exported = runner.invoke(app, ["export", "fhir", "--bundle"])
    assert exported.exit_code == 0, exported.stderr
    package = json.loads(exported.stdout)
    resources = [entry["resource"] for entry in package["entry"]]
    assert resources[0] == questionnaire_to_fhir(q, date=resources[0]["date"])
    data = {
        "questionnaire": resources[0],
        "people": [{"name": n, "answers": _fhir_answers(a)} for n, a in PEOPLE.items()],
        "validate": [package, *resources, json.loads(out.stdout)],
    }
    found: dict[str, Any] = run_node("fill.cjs", data, tmp)
    found["dir"] = tmp
    return found


def test_the_people_cover_every_band_level_and_path() -> None:
    q = load_questionnaire()
    results = [score(q, _scored(q, a)) for a in PEOPLE.values()]
    assert {r.band for r in results} == {b.id for b in q.band_rule.bands}
    assert {r.top_level for r in results} == {lv.value for lv in q.levels} | {
        "not_assessed",
        None,
    }
    assert any(r.lower_bound for r in results)
    assert {r.answers["use_12m"] for r in results} == {"yes", "prescribed_only", "no"}


def test_lforms_shows_ketscreens_result_alerts_first(filled: dict[str, Any]) -> None:
    q = load_questionnaire()
    for person in filled["people"]:
        result = score(q, _scored(q, PEOPLE[person["name"]]))
        expected = _expected_shown(q, result)
        shown = {k: v for k, v in person["shown"].items() if v or k in expected}
        assert shown == expected, person["name"]
        assert person["order"][:2] == ["result.top_flag_level", "result.flags"], person["name"]


def test_lforms_responses_verify_and_score_as_the_csv_path(filled: dict[str, Any]) -> None:
    q = load_questionnaire()
    responses = []
    for person in filled["people"]:
        response = person["response"]
        assert response["questionnaire"] == f"{questionnaire_to_fhir(q)['url']}|{q.version}"
        response["subject"] = {"identifier": {"value": person["name"]}}
        responses.append(response)
    path = Path(filled["dir"]) / "lforms.fhir.json"
    path.write_text(json.dumps(bundle(responses)), encoding="utf-8")
    checked = runner.invoke(app, ["score", str(path), "--verify", "-f", "jsonl"])
    assert checked.exit_code == 0, checked.stderr
    from_fhir = records(checked.stdout)
    assert [r["status"] for r in from_fhir] == ["ok"] * len(PEOPLE)
    assert "do not store band" not in checked.stderr  # LHC-Forms stored the result itself
    assert 'routes: "prefer not to say" was chosen together with other answers' in checked.stderr

    from_csv = runner.invoke(
        app,
        ["score", "-", "-f", "jsonl", "--input-format", "csv"],
        input=_csv(q, {n: _scored(q, a) for n, a in PEOPLE.items()}),
    )
    assert from_csv.exit_code == 0, from_csv.stderr
    by_name = {r["respondent_id"]: r for r in records(from_csv.stdout)}
    for row in from_fhir:
        assert {k: row[k] for k in COMPARED} == {
            k: by_name[row["respondent_id"]][k] for k in COMPARED
        }, row["respondent_id"]


def test_medplum_finds_no_error_in_the_package_or_any_response(filled: dict[str, Any]) -> None:
    checked = filled["validation"]
    kinds = [entry["what"].split(" ", 1)[1] for entry in checked[: -len(PEOPLE)]]
    # the package Bundle, its Questionnaire, 5 code systems, 5 value sets, the
    # provenance extension's definition, and a response ketscreen wrote
    assert kinds == [
        "Bundle",
        "Questionnaire",
        *["CodeSystem"] * 5,
        *["ValueSet"] * 5,
        "StructureDefinition",
        "QuestionnaireResponse",
    ]
    assert len(checked) == len(kinds) + len(PEOPLE)
    for entry in checked:
        errors = [i for i in entry["issues"] if i.get("severity") in ("error", "fatal")]
        assert errors == [], entry["what"]
