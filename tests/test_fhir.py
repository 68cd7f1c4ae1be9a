"""FHIR export and import: the Questionnaire, QuestionnaireResponses, Bundles, errors.

Every resource ketscreen writes is parsed by an independent FHIR library
(fhir.resources, R4B models), and every FHIRPath expression it writes is evaluated by
an independent FHIRPath engine (fhirpathpy) against responses it exported.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from ketscreen import score
from ketscreen.core.conditions import AllOf, AnyOf, BandCondition, Condition, ItemCondition
from ketscreen.core.model import Questionnaire, Score
from ketscreen.io.fhir import (
    DISCLAIMER,
    FhirError,
    bundle,
    canonical,
    compare_scores,
    dumps,
    is_fhir,
    questionnaire_to_fhir,
    read_response,
    response_to_fhir,
    responses_from_fhir,
    verify_scores,
)
from ketscreen.io.fhir.common import (
    ASKED_DECLINED,
    DATA_ABSENT_SYSTEM,
    EXT_CALCULATED,
    EXT_DATA_ABSENT,
    EXT_ENABLE_WHEN_EXPRESSION,
    EXT_ITEM_WEIGHT,
    EXT_ORDINAL_VALUE,
    answer_system,
)
from ketscreen.io.fhir.questionnaire import enable_when, fhirpath
from tests.conftest import full_answers
from tests.fhir_helpers import by_link, evaluate, walk

WHEN = "2026-11-21T10:00:00Z"
OURS = "https://ketscreen.example/fhir/CodeSystem/ketamine"


def exported(q: Questionnaire, answers: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    resource = response_to_fhir(q, score(q, answers, scored_at=WHEN), **kwargs)
    parsed: dict[str, Any] = json.loads(dumps(resource))
    return parsed


def one(q: Questionnaire, data: object) -> Any:
    records = list(responses_from_fhir(q, data, "in.json"))
    assert len(records) == 1
    return records[0]


# -- the Questionnaire ---------------------------------------------------------------


@pytest.fixture(scope="module")
def fhir_q(questionnaire: Questionnaire) -> dict[str, Any]:
    return questionnaire_to_fhir(questionnaire)


def test_questionnaire_parses_with_r4b_models(fhir_q: dict[str, Any]) -> None:
    model = FhirQuestionnaire.model_validate(fhir_q)
    assert model.url == "https://ketscreen.example/fhir/Questionnaire/ketamine"
    assert model.version == "1.1.0"
    assert DISCLAIMER in (model.description or "")


def test_link_ids_are_our_item_ids_unique_and_grouped(
    questionnaire: Questionnaire, fhir_q: dict[str, Any]
) -> None:
    links = [item["linkId"] for item in walk(fhir_q["item"])]
    assert len(links) == len(set(links))
    questions = [i["linkId"] for i in walk(fhir_q["item"]) if i["type"] == "choice"]
    assert [link for link in questions if link in questionnaire.items] == list(questionnaire.order)
    groups = [i for i in fhir_q["item"] if i["type"] == "group"]
    assert [g["linkId"] for g in groups] == [
        *(f"section.{s.id}" for s in questionnaire.sections),
        "result",
    ]
    first = fhir_q["item"][0]
    assert (first["type"], first["text"]) == ("display", DISCLAIMER)


def test_answer_options_carry_codes_weights_and_declined(
    questionnaire: Questionnaire, fhir_q: dict[str, Any]
) -> None:
    items = by_link(fhir_q)
    freq = items["freq_3m"]
    weights = {
        o["valueCoding"]["code"]: {e["url"]: e["valueDecimal"] for e in o.get("extension", [])}
        for o in freq["answerOption"]
    }
    assert weights["daily"] == {EXT_ITEM_WEIGHT: 4, EXT_ORDINAL_VALUE: 4}
    assert weights[ASKED_DECLINED] == {}
    systems = {o["valueCoding"]["system"] for o in freq["answerOption"]}
    assert systems == {answer_system(questionnaire), DATA_ABSENT_SYSTEM}
    # use_12m cannot be declined; the multi-select item's "prefer not to say" is exclusive
    assert ASKED_DECLINED not in {
        o["valueCoding"]["code"] for o in items["use_12m"]["answerOption"]
    }
    assert items["use_12m"]["required"] is True
    routes = items["routes"]
    assert routes["repeats"] is True
    assert routes["answerOption"][-1]["extension"][0]["valueBoolean"] is True
    # help text is a display child with the SDC "help" item control
    assert items["use_12m.help"]["type"] == "display"


def test_skip_logic_is_enable_when(fhir_q: dict[str, Any]) -> None:
    items = by_link(fhir_q)
    # a rule shared by the whole section sits on its group, once
    signs = items["section.signs"]
    assert signs["enableWhen"] == [
        {
            "question": "use_12m",
            "operator": "=",
            "answerCoding": {
                "system": "https://ketscreen.example/fhir/CodeSystem/ketamine",
                "code": "yes",
                "display": "Yes",
            },
        }
    ]
    assert "enableWhen" not in items["craving"]
    assert items["freq_3m"]["enableWhen"][0]["question"] == "use_12m"
    assert "enableWhen" not in items["use_12m"]
    assert "enableWhen" not in items["self_harm"]


def test_the_whole_result_is_calculated_visible_and_read_only(fhir_q: dict[str, Any]) -> None:
    """A form filler computes and shows every result item itself: alerts first; scores sum
    the answer weights (SDC `weight()`), never count one code."""
    result = next(item for item in fhir_q["item"] if item["linkId"] == "result")
    links = [item["linkId"] for item in result["item"]]
    assert links[:2] == ["result.top_flag_level", "result.flags"]
    assert {"result.band", "result.lower_bound", "result.criteria_count"} <= set(links)
    for item in result["item"]:
        assert item["readOnly"] is True
        urls = [ext["url"] for ext in item["extension"]]
        assert EXT_CALCULATED in urls, item["linkId"]
        assert not any(url.endswith("questionnaire-hidden") for url in urls), item["linkId"]
    variables = {
        ext["valueExpression"]["name"]: ext["valueExpression"]["expression"]
        for ext in result["extension"]
    }
    assert "weight()" in variables["scoreCriteriaCount"]
    assert "count()" not in variables["scoreCriteriaCount"]
    count = by_link(fhir_q)["result.criteria_count"]
    assert count["extension"][0]["valueExpression"]["expression"] == "%scoreCriteriaCount"


def test_weights_only_on_the_questions_a_score_uses(
    questionnaire: Questionnaire, fhir_q: dict[str, Any]
) -> None:
    """A filler may show weights ("No - 0"): only scored questions carry them."""
    scored = {item for sc in questionnaire.scores for item in sc.items}
    found = by_link(fhir_q)
    for item_id in questionnaire.items:
        weighted = any(
            ext["url"] == EXT_ITEM_WEIGHT
            for option in found[item_id]["answerOption"]
            for ext in option.get("extension", [])
        )
        assert weighted == (item_id in scored), item_id
    assert "urine_blood" not in scored and "craving" in scored


def test_export_of_a_custom_questionnaire_with_every_condition(
    questionnaire: Questionnaire,
) -> None:
    """Conditions FHIR's flat enableWhen can say exactly, and those it cannot."""
    q = questionnaire
    yes = ItemCondition("use_12m", "equals", ("yes",))
    weekly = ItemCondition("freq_3m", "in", ("weekly", "daily"))
    cases: list[tuple[Condition, str | None, int]] = [
        (yes, None, 1),
        (ItemCondition("use_12m", "not_equals", ("no",)), "any", 2),
        (ItemCondition("use_12m", "not_in", ("no", "yes")), None, 1),
        (ItemCondition("routes", "contains", ("inject",)), None, 1),
        (ItemCondition("freq_3m", "answered", (), True), "any", 5),
        (AnyOf((yes, weekly)), "any", 3),
        (AllOf((yes, ItemCondition("routes", "contains", ("smoke",)))), "all", 2),
        (AllOf((yes,)), None, 1),
    ]
    for cond, behavior, count in cases:
        keys = enable_when(q, cond)
        assert len(keys["enableWhen"]) == count, cond
        assert keys.get("enableBehavior") == behavior, cond
    # not expressible as one flat list: an SDC enableWhenExpression instead
    for cond in (
        ItemCondition("freq_3m", "answered", (), False),
        AllOf((yes, weekly)),
        AnyOf((yes, AllOf((weekly, yes)))),
    ):
        keys = enable_when(q, cond)
        assert keys["extension"][0]["url"] == EXT_ENABLE_WHEN_EXPRESSION
    with pytest.raises(FhirError):
        enable_when(q, BandCondition(("low",)))
    with pytest.raises(FhirError):
        fhirpath(q, BandCondition(("low",)))


@pytest.mark.parametrize(
    ("cond", "answers", "expected"),
    [
        (ItemCondition("freq_3m", "answered", (), False), {"use_12m": "yes"}, True),
        (ItemCondition("freq_3m", "answered", (), False), {"freq_3m": "declined"}, True),
        (ItemCondition("freq_3m", "answered", (), False), {"freq_3m": "daily"}, False),
        (ItemCondition("use_12m", "not_in", ("no", "yes", "prescribed_only")), {}, False),
        (
            AllOf(
                (
                    ItemCondition("use_12m", "equals", ("yes",)),
                    ItemCondition("freq_3m", "in", ("weekly", "daily")),
                )
            ),
            {"use_12m": "yes", "freq_3m": "daily"},
            True,
        ),
        (
            AnyOf(
                (
                    ItemCondition("routes", "contains", ("inject",)),
                    ItemCondition("freq_3m", "equals", ("never",)),
                )
            ),
            {"use_12m": "yes", "routes": ("snort", "smoke")},
            False,
        ),
    ],
)
def test_fhirpath_conditions_agree_with_ours(
    questionnaire: Questionnaire, cond: Condition, answers: dict[str, Any], expected: bool
) -> None:
    from ketscreen.core.conditions import Context
    from ketscreen.io.fhir.questionnaire import coding

    items = [
        {
            "linkId": item_id,
            "answer": [
                {"valueCoding": coding(questionnaire, questionnaire.items[item_id], code)}
                for code in (value if isinstance(value, tuple) else (value,))
            ],
        }
        for item_id, value in answers.items()
    ]
    response = {"resourceType": "QuestionnaireResponse", "item": [{"linkId": "g", "item": items}]}
    given = {k: v for k, v in answers.items() if v != "declined"}
    assert cond.evaluate(Context(given)) is expected
    assert evaluate(response, fhirpath(questionnaire, cond)) == [expected]


# -- responses out ------------------------------------------------------------------------


def test_response_has_status_canonical_authored_texts_and_codings(
    questionnaire: Questionnaire, fhir_q: dict[str, Any]
) -> None:
    answers = full_answers(craving="yes", tolerance="declined", routes=["snort", "inject"])
    resource = exported(
        questionnaire, answers, respondent_id="client-7", status="amended", authored=WHEN
    )
    QuestionnaireResponse.model_validate(resource)
    assert resource["questionnaire"] == canonical(questionnaire)
    assert resource["questionnaire"].endswith("/Questionnaire/ketamine|1.1.0")
    assert (resource["status"], resource["authored"]) == ("amended", WHEN)
    assert resource["subject"]["identifier"]["value"] == "client-7"
    assert DISCLAIMER in resource["text"]["div"]
    q_items = by_link(fhir_q)
    for link, item in by_link(resource).items():
        assert item.get("text") == q_items[link].get("text"), link
    items = by_link(resource)
    assert items["routes"]["answer"] == [
        {"valueCoding": {"system": answer_system(questionnaire), "code": c, "display": d}}
        for c, d in (("snort", "Snorted (sniffed) it"), ("inject", "Injected it"))
    ]
    assert items["tolerance"]["answer"][0]["valueCoding"]["code"] == ASKED_DECLINED
    assert items["result.criteria_count"]["answer"] == [{"valueInteger": 1}]
    assert items["result.band"]["answer"][0]["valueCoding"]["code"] == "low"
    assert items["result.lower_bound"]["answer"] == [{"valueBoolean": True}]
    assert items["result.top_flag_level"]["answer"][0]["valueCoding"]["code"] == "harm_reduction"
    assert [a["valueCoding"]["code"] for a in items["result.flags"]["answer"]] == ["injecting"]


def test_response_leaves_out_unasked_items_and_empty_scores(questionnaire: Questionnaire) -> None:
    resource = exported(questionnaire, {"use_12m": "no", "self_harm": "no"})
    links = set(by_link(resource))
    assert "craving" not in links and "section.signs" not in links
    assert "result.criteria_count" not in links
    assert "result.flags" not in links and "result.top_flag_level" not in links
    assert "subject" not in resource
    assert resource["authored"] == WHEN


def test_response_refuses_a_bad_status_or_another_questionnaire(
    questionnaire: Questionnaire,
) -> None:
    result = score(questionnaire, {"use_12m": "no", "self_harm": "no"})
    with pytest.raises(FhirError, match="status 'done' is not one of"):
        response_to_fhir(questionnaire, result, status="done")
    other = dataclasses.replace(questionnaire, version="2.0.0")
    with pytest.raises(FhirError, match="scored with questionnaire ketamine 1.1.0"):
        response_to_fhir(other, result)


def test_bundle_is_a_collection(questionnaire: Questionnaire) -> None:
    responses = [
        exported(questionnaire, {"use_12m": "no", "self_harm": "no"}, resource_id=f"r{i}")
        for i in range(3)
    ]
    data = bundle(responses)
    Bundle.model_validate(data)
    assert data["type"] == "collection"
    assert [e["resource"]["id"] for e in data["entry"]] == ["r0", "r1", "r2"]
    assert bundle([]) == {"resourceType": "Bundle", "type": "collection"}


# -- responses in -------------------------------------------------------------------------


def test_round_trip_of_every_worked_example(questionnaire: Questionnaire) -> None:
    for example in questionnaire.examples:
        original = score(questionnaire, dict(example.answers), scored_at=WHEN)
        resource = exported(questionnaire, dict(example.answers), respondent_id="p1")
        record = one(questionnaire, resource)
        assert record.error is None
        assert (record.respondent_id, record.source) == ("p1", "in.json")
        again = score(questionnaire, record.answers, scored_at=WHEN)
        assert again == original, example.name
        assert compare_scores(again, record.stored) == []


def test_bundle_entries_are_read_in_order_with_their_place(questionnaire: Questionnaire) -> None:
    good = exported(questionnaire, {"use_12m": "no", "self_harm": "no"}, respondent_id="a")
    data = bundle([good, {"resourceType": "Patient"}, good])
    records = list(responses_from_fhir(questionnaire, data, "b.json"))
    assert [r.source for r in records] == ["b.json:entry 1", "b.json:entry 2", "b.json:entry 3"]
    assert [r.error is None for r in records] == [True, False, True]
    assert "is 'Patient', not a QuestionnaireResponse" in str(records[1].error)
    assert list(responses_from_fhir(questionnaire, bundle([]), "x")) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"resourceType": "Patient"}, "in.json: found resourceType 'Patient'; expected a"),
        ([], "in.json: found no FHIR resourceType; expected a QuestionnaireResponse"),
        ({"resourceType": "Bundle", "entry": {}}, "Bundle.entry must be a list"),
    ],
)
def test_wrong_input_is_one_clear_error(
    questionnaire: Questionnaire, data: object, message: str
) -> None:
    with pytest.raises(FhirError, match=message):
        list(responses_from_fhir(questionnaire, data, "in.json"))


def test_is_fhir() -> None:
    assert is_fhir({"resourceType": "Bundle"})
    assert is_fhir({"resourceType": "QuestionnaireResponse"})
    assert not is_fhir({"resourceType": "Patient"})
    assert not is_fhir([{"use_12m": "no"}])


def edit(resource: dict[str, Any], link: str, **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(resource)
    item = by_link(changed)[link]
    item.update(changes)
    return changed


@pytest.fixture
def base(questionnaire: Questionnaire) -> dict[str, Any]:
    return exported(questionnaire, full_answers(craving="yes"), respondent_id="p")


def coding_answer(system: str, code: str) -> list[dict[str, Any]]:
    return [{"valueCoding": {"system": system, "code": code}}]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("questionnaire"), "has no questionnaire; expected https://"),
        (
            lambda r: r.update(questionnaire="http://example.org/Questionnaire/phq9|1"),
            "answers questionnaire a value of 37 characters, not https://",
        ),
        (
            lambda r: r.update(questionnaire=r["questionnaire"].replace("1.1.0", "0.9.0")),
            "answers version '0.9.0' of questionnaire ketamine, but version 1.1.0 is loaded",
        ),
        (lambda r: r.update(status="entered-in-error"), "status is entered-in-error"),
        (lambda r: r["item"].append({"linkId": "mood"}), "unknown linkId 'mood'"),
        (lambda r: r["item"].append({"text": "x"}), "an entry of item has no linkId"),
        (lambda r: r["item"].append({"linkId": "result.mood"}), "unknown linkId 'result.mood'"),
        (lambda r: r.update(item={}), "item must be a list"),
        (lambda r: r["item"].append({"linkId": "craving"}), "craving: appears twice"),
    ],
)
def test_unreadable_responses_name_the_problem(
    questionnaire: Questionnaire, base: dict[str, Any], change: Any, message: str
) -> None:
    changed = copy.deepcopy(base)
    change(changed)
    record = one(questionnaire, changed)
    assert record.error is not None and message in str(record.error)
    assert (record.answers, record.stored, record.respondent_id) == ({}, {}, "p")


@pytest.mark.parametrize(
    ("link", "answer", "message"),
    [
        ("craving", coding_answer("http://loinc.org", "LA33-6"), "from 'http://loinc.org', not"),
        ("craving", [{"valueCoding": {"code": "yes"}}], "from no code system"),
        (
            "craving",
            coding_answer(OURS, "maybe"),
            "'maybe' is not a code of this item; codes: no, yes",
        ),
        ("craving", [{"valueInteger": 1}], "cannot read an answer with 'valueInteger'"),
        ("craving", [{}], "cannot read an answer with no value"),
        ("craving", ["yes"], "an answer must be an object"),
        ("craving", {"valueBoolean": True}, "craving: answer must be a list"),
        ("craving", coding_answer(OURS, "yes") * 2, "takes one answer, not a list"),
        ("result.criteria_count", [{"valueString": "3"}], "expected one whole-number answer"),
        ("result.criteria_count", [{"valueInteger": 1, "valueString": "1"}], "exactly one value"),
        ("result.lower_bound", [{"valueInteger": 0}], "expected one true/false answer"),
        ("result.band", coding_answer(OURS, "low"), "expected a coding from"),
        ("result.band", [], "expected one answer"),
    ],
)
def test_bad_answers_name_the_item(
    questionnaire: Questionnaire,
    base: dict[str, Any],
    link: str,
    answer: Any,
    message: str,
) -> None:
    record = one(questionnaire, edit(base, link, answer=answer))
    assert record.error is not None
    assert message in str(record.error)


def test_other_answer_forms_are_read(questionnaire: Questionnaire, base: dict[str, Any]) -> None:
    """Booleans and strings for yes/no, declined as a data-absent-reason, flat items."""
    changed = edit(base, "craving", answer=[{"valueBoolean": False}])
    changed = edit(changed, "time_spent", answer=[{"valueString": "Yes"}])
    declined = [{"extension": [{"url": EXT_DATA_ABSENT, "valueCode": ASKED_DECLINED}]}]
    changed = edit(changed, "tolerance", answer=declined)
    changed = edit(changed, "secrecy", answer=[])
    record = one(questionnaire, changed)
    assert record.error is None
    assert record.answers["craving"] == "no"
    assert record.answers["time_spent"] == "yes"
    assert record.answers["tolerance"] == "declined"
    assert "secrecy" not in record.answers
    # a flat response (no groups) and a subject given by reference
    flat = copy.deepcopy(base)
    flat["item"] = [i for group in flat["item"] for i in group["item"]]
    flat["subject"] = {"reference": "Patient/42"}
    record = one(questionnaire, flat)
    assert record.error is None and record.respondent_id == "Patient/42"
    assert record.answers == one(questionnaire, base).answers


def test_answers_nested_under_an_answer_are_read(
    questionnaire: Questionnaire, base: dict[str, Any]
) -> None:
    changed = copy.deepcopy(base)
    craving = by_link(changed)["craving"]
    tolerance = by_link(changed)["tolerance"]
    craving["answer"][0]["item"] = [tolerance]
    for group in changed["item"]:
        group["item"] = [i for i in group["item"] if i["linkId"] != "tolerance"]
    record = one(questionnaire, changed)
    assert record.error is None and record.answers["tolerance"] == "no"


def test_read_response_refuses_other_resources(questionnaire: Questionnaire) -> None:
    with pytest.raises(FhirError, match="is not a FHIR resource, not a QuestionnaireResponse"):
        read_response(questionnaire, "text")


# -- verification -------------------------------------------------------------------------


def test_compare_scores_reports_every_disagreement(
    questionnaire: Questionnaire, base: dict[str, Any]
) -> None:
    tampered = edit(base, "result.criteria_count", answer=[{"valueInteger": 6}])
    band = by_link(tampered)["result.band"]["answer"][0]["valueCoding"]
    band["code"] = "severe"
    record = one(questionnaire, tampered)
    result = score(questionnaire, record.answers)
    assert compare_scores(result, record.stored) == [
        "criteria_count: stored 6, recomputed 1",
        "band: stored severe, recomputed low",
    ]
    # once a band is stored, result items left out count as empty (ketscreen and the
    # exported expressions leave them out when empty); flags and booleans shown plainly
    stored = {"band": "low", "flags": ["injecting"], "lower_bound": True}
    assert compare_scores(result, stored) == [
        "criteria_count: stored none, recomputed 1",
        "warning_signs: stored none, recomputed 1",
        "frequency: stored none, recomputed 2",
        "lower_bound: stored true, recomputed false",
        "flags: stored injecting, recomputed none",
    ]
    # what a response does not store at all is recomputed and reported, not a disagreement
    assert compare_scores(result, {}) == []
    assert verify_scores(result, {}).unstored == (
        "criteria_count",
        "warning_signs",
        "frequency",
        "band",
        "lower_bound",
        "top_flag_level",
        "flags",
    )
    only_counts = verify_scores(result, {"criteria_count": 1, "warning_signs": 3})
    assert only_counts.problems == ["warning_signs: stored 3, recomputed 1"]
    assert "band" in only_counts.unstored and "criteria_count" not in only_counts.unstored
    # a batch row's values (only these keys are compared; flags may be a tuple)
    row = {"criteria_count": 1, "band": "low", "flags": ("injecting", "k_hole")}
    assert compare_scores(row, stored) == [
        "criteria_count: stored none, recomputed 1",
        "flags: stored injecting, recomputed injecting, k_hole",
    ]


def test_scores_and_flags_of_a_custom_questionnaire(questionnaire: Questionnaire) -> None:
    """A score over items with different skip rules exists when any of them is asked."""
    weekly = ItemCondition("freq_3m", "in", ("weekly", "daily"))
    items = dict(questionnaire.items)
    items["craving"] = dataclasses.replace(items["craving"], enable_when=weekly)
    q = dataclasses.replace(
        questionnaire,
        id="ketamine_custom",
        items=items,
        scores=(
            *questionnaire.scores,
            Score("always", "Always there", ("use_12m", "craving")),
            Score("mixed", "Mixed rules", ("freq_3m", "craving")),
            Score("nothing", "No weights", ("use_12m",)),
        ),
        flags=(),
    )
    resource = questionnaire_to_fhir(q)
    assert resource["id"] == "ketamine-custom"  # FHIR ids have no underscores
    assert resource["url"].endswith("/Questionnaire/ketamine_custom")
    found = by_link(resource)
    assert "enableWhen" not in found["result.always"]
    assert found["craving"]["enableWhen"][0]["question"] == "freq_3m"
    mixed = found["result.mixed"]
    assert mixed["enableBehavior"] == "any"
    assert [w["question"] for w in mixed["enableWhen"]] == ["use_12m", "freq_3m", "freq_3m"]
    group = next(item for item in resource["item"] if item["linkId"] == "result")
    variables = {
        ext["valueExpression"]["name"]: ext["valueExpression"]["expression"]
        for ext in group["extension"]
    }
    assert "linkId in ('freq_3m' | 'craving')" in variables["scoreMixed"]
    assert ".weight().aggregate($total + $this, 0), {})" in variables["scoreMixed"]
    assert variables["scoreNothing"].endswith(".weight()")
    assert "result.flags" not in found
    FhirQuestionnaire.model_validate(resource)


def test_a_response_with_no_result_yet_and_an_author(questionnaire: Questionnaire) -> None:
    """An intake with no answer yet is a response without items; the counselor is author."""
    resource = response_to_fhir(
        questionnaire, None, status="in-progress", author="Sam", resource_id="s-1"
    )
    QuestionnaireResponse.model_validate(resource)
    assert "item" not in resource and "authored" not in resource
    assert "extension" not in resource
    assert resource["author"] == {"display": "Sam"}
    assert "No result yet" in resource["text"]["div"]
    record = one(questionnaire, resource)
    assert (record.error, record.answers, record.stored) == (None, {}, {})


def test_a_result_without_a_scoring_time(questionnaire: Questionnaire) -> None:
    result = score(questionnaire, {"use_12m": "no", "self_harm": "no"})
    result = dataclasses.replace(
        result, provenance=dataclasses.replace(result.provenance, scored_at="")
    )
    resource = response_to_fhir(questionnaire, result)
    QuestionnaireResponse.model_validate(resource)
    assert "authored" not in resource
    assert [e["url"] for e in resource["extension"][0]["extension"]] == [
        "questionnaireSha256",
        "toolVersion",
    ]


@pytest.mark.parametrize("use", ["no", "prescribed_only"])
def test_a_crisis_alert_leads_the_summary_and_the_result_group(
    questionnaire: Questionnaire, use: str
) -> None:
    result = score(questionnaire, {"use_12m": use, "self_harm": "now"})
    resource = response_to_fhir(questionnaire, result, status="completed")
    div = resource["text"]["div"]
    assert div.index("Alert, Emergency (emergency): Thoughts of suicide") < div.index("Result:")
    group = resource["item"][-1]
    assert [i["linkId"] for i in group["item"]][:2] == ["result.top_flag_level", "result.flags"]
    exported = questionnaire_to_fhir(questionnaire)["item"][-1]["item"]
    assert [i["linkId"] for i in exported][:2] == ["result.top_flag_level", "result.flags"]
    QuestionnaireResponse.model_validate(resource)


def test_no_alert_paragraph_without_flags(questionnaire: Questionnaire) -> None:
    result = score(questionnaire, {"use_12m": "no", "self_harm": "no"})
    div = response_to_fhir(questionnaire, result, status="completed")["text"]["div"]
    assert "Alert" not in div and "<p>Result: No ketamine use in the past year.</p>" in div
