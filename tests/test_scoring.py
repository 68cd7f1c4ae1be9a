"""Every rule of CONTENT.md sections 2 and 3, as a test that fails if the rule breaks."""

from __future__ import annotations

import pytest

from ketscreen import AnswerError, score
from ketscreen.core.model import FlagLevel, ItemType, Questionnaire
from tests.batch_helpers import csv_text, records, run_text
from tests.conftest import CRITERIA, NO_SIGNS, full_answers

# -- section 2: the item contract ------------------------------------------------------------

CONTRACT = {
    "use_12m": ("single", ("yes", "prescribed_only", "no")),
    "freq_3m": ("single", ("never", "once_twice", "monthly", "weekly", "daily")),
    "routes": ("multi", ("snort", "swallow", "inject", "smoke", "other")),
    **dict.fromkeys(CRITERIA, ("yes_no", ("no", "yes"))),
    "withdrawal": ("yes_no", ("no", "yes")),
    "secrecy": ("yes_no", ("no", "yes")),
    "cope_use": ("yes_no", ("no", "yes")),
    "memory_problems": ("yes_no", ("no", "yes")),
    "mood_problems": ("yes_no", ("no", "yes")),
    "psychotic_symptoms": ("yes_no", ("no", "yes")),
    "self_harm": ("single", ("no", "past_month", "now")),
    "bladder_frequency": ("yes_no", ("no", "yes")),
    "bladder_pain": ("yes_no", ("no", "yes")),
    "urine_blood": ("yes_no", ("no", "yes")),
    "urine_retention": ("yes_no", ("no", "yes")),
    "abdominal_pain": ("single", ("no", "mild", "severe")),
    "flank_pain": ("single", ("no", "mild", "severe")),
    "jaundice": ("yes_no", ("no", "yes")),
    "mix_depressants": ("yes_no", ("no", "yes")),
    "use_alone": ("yes_no", ("no", "yes")),
    "k_hole": ("yes_no", ("no", "yes")),
    "overdose_event": ("yes_no", ("no", "yes")),
    "readiness": ("single", ("not_now", "thinking", "ready", "already_trying")),
}
MIND = ("memory_problems", "mood_problems", "psychotic_symptoms")
BODY = (
    "bladder_frequency",
    "bladder_pain",
    "urine_blood",
    "urine_retention",
    "abdominal_pain",
    "flank_pain",
    "jaundice",
)


def test_items_codes_and_order_match_the_contract(questionnaire: Questionnaire) -> None:
    assert questionnaire.id == "ketamine"
    assert questionnaire.version == "1.1.0"
    assert list(questionnaire.items) == list(CONTRACT)
    for item_id, (kind, codes) in CONTRACT.items():
        item = questionnaire.items[item_id]
        assert (item.type.value, item.codes) == (kind, codes), item_id
        assert item.source, f"{item_id} has no source"
        assert item.text.strip() and item.short.strip()


def test_sections_come_in_the_contract_order(questionnaire: Questionnaire) -> None:
    assert [s.id for s in questionnaire.sections] == [
        "use",
        "signs",
        "withdrawal",
        "mind",
        "safety",
        "body",
        "risk",
        "readiness",
    ]


def test_a_person_who_uses_is_asked_self_harm_as_question_20(
    questionnaire: Questionnaire,
) -> None:
    asked = score(questionnaire, full_answers()).asked
    assert asked.index("self_harm") + 1 == 20


def test_time_frames(questionnaire: Questionnaire) -> None:
    frames = {i.id: i.time_frame for i in questionnaire.items.values()}
    assert frames["use_12m"] == "past 12 months"
    assert frames["freq_3m"] == "past 3 months"
    assert all(frames[c] == "past 12 months" for c in CRITERIA)
    assert frames["withdrawal"] == frames["secrecy"] == "past 12 months"
    assert all(frames[i] == "past 3 months" for i in ("bladder_pain", "flank_pain", "k_hole"))
    assert frames["self_harm"] == "past month"


def test_every_item_but_use_12m_can_be_declined(questionnaire: Questionnaire) -> None:
    for item in questionnaire.items.values():
        assert item.allow_decline == (item.id != "use_12m"), item.id
    with pytest.raises(AnswerError, match="use_12m: 'declined' is not an allowed answer"):
        score(questionnaire, {"use_12m": "declined"})


@pytest.mark.parametrize("freq", [None, "declined"])
def test_frequency_is_absent_not_zero_when_unanswered_or_declined(
    questionnaire: Questionnaire, freq: str | None
) -> None:
    """CONTENT.md section 3: 0 means "not at all", so a skipped or declined frequency has
    no frequency at all, in `score()` and in the batch scorer alike."""
    answers = full_answers(freq_3m=freq)
    if freq is None:
        del answers["freq_3m"]
    result = score(questionnaire, answers)
    assert result.frequency is None
    assert result.criteria_count == 0  # a count over several questions stays a count
    assert "freq_3m" in result.missing
    header = list(answers)
    cells = [";".join(v) if isinstance(v, list) else str(v) for v in answers.values()]
    text, _ = run_text(questionnaire, csv_text(header, [cells]), None)
    (row,) = records(text)
    assert (row["status"], row["frequency"], row["criteria_count"]) == ("ok", None, 0)


def test_frequency_weights_are_ordinal(questionnaire: Questionnaire) -> None:
    for weight, code in enumerate(CONTRACT["freq_3m"][1]):
        assert score(questionnaire, full_answers(freq_3m=code)).frequency == weight


def test_only_self_harm_follows_no_use(questionnaire: Questionnaire) -> None:
    result = score(questionnaire, {"use_12m": "no", "self_harm": "no"})
    assert result.asked == ("use_12m", "self_harm")
    assert result.missing == ()


def test_prescribed_use_asks_mind_then_self_harm_then_body(questionnaire: Questionnaire) -> None:
    result = score(questionnaire, {"use_12m": "prescribed_only", "self_harm": "no"})
    assert result.asked == ("use_12m", *MIND, "self_harm", *BODY)


def test_prescribed_only_with_bladder_pain_gets_a_see_doctor_alert(
    questionnaire: Questionnaire,
) -> None:
    result = score(questionnaire, {"use_12m": "prescribed_only", "bladder_pain": "yes"})
    assert result.band == "prescribed_only"
    assert [(f.id, f.level) for f in result.flags] == [("bladder_pain", FlagLevel.SEE_DOCTOR)]
    assert "bladder" in result.guidance


def test_everything_is_asked_after_yes(questionnaire: Questionnaire) -> None:
    assert score(questionnaire, full_answers()).asked == tuple(CONTRACT)


# -- section 3: scores --------------------------------------------------------------------------


@pytest.mark.parametrize("criterion", CRITERIA)
def test_each_criterion_counts_once(questionnaire: Questionnaire, criterion: str) -> None:
    result = score(questionnaire, full_answers(**{criterion: "yes"}))
    assert (result.criteria_count, result.warning_signs) == (1, 1)


def test_withdrawal_counts_in_warning_signs_only(questionnaire: Questionnaire) -> None:
    result = score(questionnaire, full_answers(withdrawal="yes", craving="yes"))
    assert (result.criteria_count, result.warning_signs) == (1, 2)


def test_secrecy_counts_in_neither_score(questionnaire: Questionnaire) -> None:
    result = score(questionnaire, full_answers(secrecy="yes"))
    assert (result.criteria_count, result.warning_signs, result.band) == (0, 0, "low")


def test_scores_are_absent_when_not_asked(questionnaire: Questionnaire) -> None:
    result = score(questionnaire, {"use_12m": "no", "self_harm": "no"})
    assert (result.criteria_count, result.warning_signs, result.frequency) == (None, None, None)


EXPECTED_BANDS = ["low", "low", "mild", "mild", "moderate", "moderate"] + ["severe"] * 5


@pytest.mark.parametrize("count", range(11))
def test_band_thresholds(questionnaire: Questionnaire, count: int) -> None:
    signs = dict.fromkeys(CRITERIA[:count], "yes")
    result = score(questionnaire, full_answers(**signs))
    assert result.criteria_count == count
    assert result.band == EXPECTED_BANDS[count]
    assert result.lower_bound is False


def test_use_answers_give_their_own_bands(questionnaire: Questionnaire) -> None:
    assert score(questionnaire, {"use_12m": "no"}).band == "no_recent_use"
    assert score(questionnaire, {"use_12m": "prescribed_only"}).band == "prescribed_only"


@pytest.mark.parametrize("unanswered", [1, 2])
def test_one_or_two_unanswered_criteria_give_a_lower_bound(
    questionnaire: Questionnaire, unanswered: int
) -> None:
    answers = full_answers(more_than_intended="yes", cut_down_failed="yes")
    for criterion in CRITERIA[-unanswered:]:
        answers[criterion] = "declined" if unanswered == 1 else ""
    result = score(questionnaire, answers)
    assert (result.band, result.criteria_count, result.lower_bound) == ("mild", 2, True)
    assert set(CRITERIA[-unanswered:]) <= set(result.missing)


def test_three_unanswered_criteria_are_incomplete(questionnaire: Questionnaire) -> None:
    answers = full_answers(**dict.fromkeys(CRITERIA[:3], "declined"))
    result = score(questionnaire, answers)
    assert (result.band, result.lower_bound) == ("incomplete", False)


def test_missing_lists_every_unanswered_asked_item_in_order(questionnaire: Questionnaire) -> None:
    answers = full_answers(routes="declined", readiness=None, k_hole="")
    del answers["secrecy"]
    assert score(questionnaire, answers).missing == ("routes", "secrecy", "k_hole", "readiness")


def test_answer_to_an_item_not_asked_is_rejected(questionnaire: Questionnaire) -> None:
    with pytest.raises(AnswerError) as caught:
        score(questionnaire, {"use_12m": "no", "craving": "yes"})
    assert caught.value.item == "craving"
    assert str(caught.value) == (
        "craving: answered craving, but use_12m is no, so craving is not asked: leave it empty"
    )


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        ({"use_12m": "prescribed_only", "craving": "yes"}, "use_12m is prescribed_only"),
        ({"use_12m": "no", "craving": "yes"}, "use_12m is no"),
    ],
)
def test_an_answer_not_asked_says_what_the_answers_were(
    questionnaire: Questionnaire, answers: dict[str, str], reason: str
) -> None:
    """Plain words about the answers given, not the rule's notation (#12)."""
    with pytest.raises(AnswerError) as caught:
        score(questionnaire, answers)
    assert f"but {reason}, so craving is not asked: leave it empty" in str(caught.value)
    assert "does not hold" not in str(caught.value)


def test_a_close_misspelling_gets_a_did_you_mean(questionnaire: Questionnaire) -> None:
    with pytest.raises(AnswerError) as caught:
        score(questionnaire, {"use_12m": "yes", "freq_3m": "wekly"})
    assert "'wekly' is not an allowed answer (did you mean 'weekly'?); allowed:" in str(
        caught.value
    )
    with pytest.raises(AnswerError) as caught:
        score(questionnaire, {"use_12m": "yes", "freq_3m": "sometimes"})
    assert "did you mean" not in str(caught.value)


def test_declined_for_an_item_not_asked_is_rejected_too(questionnaire: Questionnaire) -> None:
    with pytest.raises(AnswerError, match="freq_3m: answered freq_3m, but use_12m is "):
        score(questionnaire, {"use_12m": "prescribed_only", "freq_3m": "declined"})


def test_missing_use_12m_is_an_error_naming_the_codes(questionnaire: Questionnaire) -> None:
    with pytest.raises(AnswerError) as caught:
        score(questionnaire, {"self_harm": "no"})
    assert str(caught.value) == "use_12m: is required; allowed: yes, prescribed_only, no"


def test_unknown_item_and_unknown_code_are_errors(questionnaire: Questionnaire) -> None:
    with pytest.raises(AnswerError, match="^cravings: is not an item of this questionnaire$"):
        score(questionnaire, full_answers(cravings="yes"))
    with pytest.raises(AnswerError) as caught:
        score(questionnaire, full_answers(freq_3m="sometimes"))
    assert str(caught.value) == (
        "freq_3m: 'sometimes' is not an allowed answer; "
        "allowed: never, once_twice, monthly, weekly, daily, declined"
    )
    with pytest.raises(AnswerError, match="routes: 'needle' is not an allowed answer"):
        score(questionnaire, full_answers(routes="snort;needle"))


def test_long_unknown_values_are_not_echoed(questionnaire: Questionnaire) -> None:
    secret = "I used it every day at my office on " + "x" * 40
    with pytest.raises(AnswerError) as caught:
        score(questionnaire, full_answers(readiness=secret))
    assert secret not in str(caught.value)
    assert f"a value of {len(secret)} characters is not an allowed answer" in str(caught.value)


# -- flags -----------------------------------------------------------------------------------------

FLAG_CASES = [
    ({"self_harm": "now"}, "self_harm_now", "emergency", "self_harm"),
    ({"self_harm": "past_month"}, "self_harm_past_month", "crisis", "self_harm"),
    ({"urine_blood": "yes"}, "urine_blood", "urgent", "urine_blood"),
    ({"urine_retention": "yes"}, "urine_retention", "urgent", "urine_retention"),
    ({"abdominal_pain": "severe"}, "abdominal_pain_severe", "urgent", "abdominal_pain"),
    ({"abdominal_pain": "mild"}, "abdominal_pain_mild", "see_doctor", "abdominal_pain"),
    ({"flank_pain": "severe"}, "flank_pain_severe", "urgent", "flank_pain"),
    ({"flank_pain": "mild"}, "flank_pain_mild", "see_doctor", "flank_pain"),
    ({"bladder_frequency": "yes"}, "bladder_frequency", "see_doctor", "bladder_frequency"),
    ({"bladder_pain": "yes"}, "bladder_pain", "see_doctor", "bladder_pain"),
    ({"memory_problems": "yes"}, "memory_problems", "see_doctor", "memory_problems"),
    ({"mood_problems": "yes"}, "mood_problems", "see_doctor", "mood_problems"),
    ({"psychotic_symptoms": "yes"}, "psychotic_symptoms", "see_doctor", "psychotic_symptoms"),
    ({"overdose_event": "yes"}, "overdose_event", "see_doctor", "overdose_event"),
    ({"mix_depressants": "yes"}, "mix_depressants", "harm_reduction", "mix_depressants"),
    ({"use_alone": "yes"}, "use_alone", "harm_reduction", "use_alone"),
    ({"k_hole": "yes"}, "k_hole", "harm_reduction", "k_hole"),
    ({"routes": ["swallow", "inject"]}, "injecting", "harm_reduction", "routes"),
]


@pytest.mark.parametrize(
    ("answers", "flag_id", "level", "item"), FLAG_CASES, ids=[c[1] for c in FLAG_CASES]
)
def test_each_alert_raises_its_flag(
    questionnaire: Questionnaire, answers: dict[str, object], flag_id: str, level: str, item: str
) -> None:
    result = score(questionnaire, full_answers(**answers))
    assert [(f.id, f.level.value, f.item) for f in result.flags] == [(flag_id, level, item)]
    assert result.top_flag_level == FlagLevel(level)
    assert result.band == "low"  # flags are raised whatever the band


def test_no_flag_means_no_top_level(questionnaire: Questionnaire) -> None:
    result = score(questionnaire, full_answers())
    assert result.flags == () and result.top_flag_level is None


@pytest.mark.parametrize("use", ["no", "prescribed_only"])
@pytest.mark.parametrize(("answer", "level"), [("now", "emergency"), ("past_month", "crisis")])
def test_safety_flags_are_raised_without_recent_use(
    questionnaire: Questionnaire, use: str, answer: str, level: str
) -> None:
    result = score(questionnaire, {"use_12m": use, "self_harm": answer})
    assert result.band in ("no_recent_use", "prescribed_only")
    assert result.top_flag_level == FlagLevel(level)


def test_flags_are_ordered_most_urgent_first(questionnaire: Questionnaire) -> None:
    answers = full_answers(k_hole="yes", memory_problems="yes", urine_blood="yes", self_harm="now")
    levels = [f.level.value for f in score(questionnaire, answers).flags]
    assert levels == ["emergency", "urgent", "see_doctor", "harm_reduction"]
    assert [level.value for level in sorted(FlagLevel, key=lambda x: x.rank)] == [
        "emergency",
        "crisis",
        "urgent",
        "see_doctor",
        "harm_reduction",
    ]


# -- guidance notes (section 3 frequency note, section 5 facts) ----------------------------


@pytest.mark.parametrize(("freq", "noted"), [("weekly", True), ("daily", True), ("monthly", False)])
def test_frequency_note_for_frequent_use_in_the_low_band(
    questionnaire: Questionnaire, freq: str, noted: bool
) -> None:
    assert ("frequent_use" in score(questionnaire, full_answers(freq_3m=freq)).guidance) is noted


def test_frequency_note_only_in_the_low_band(questionnaire: Questionnaire) -> None:
    answers = full_answers(freq_3m="daily", **dict.fromkeys(CRITERIA[:2], "yes"))
    assert "frequent_use" not in score(questionnaire, answers).guidance


@pytest.mark.parametrize(
    ("answers", "topic"),
    [
        ({"withdrawal": "yes"}, "stopping_safely"),
        ({"freq_3m": "daily"}, "stopping_safely"),
        ({"flank_pain": "mild"}, "bladder"),
        ({"urine_retention": "yes"}, "bladder"),
        ({"use_alone": "yes"}, "harm_reduction"),
    ],
)
def test_guidance_topics(questionnaire: Questionnaire, answers: dict[str, str], topic: str) -> None:
    assert topic not in score(questionnaire, full_answers()).guidance
    assert topic in score(questionnaire, full_answers(**answers)).guidance


# -- normalisation and provenance ----------------------------------------------------------


@pytest.mark.parametrize("spelling", ["yes", "YES", " y ", "True", "1", 1, True])
def test_yes_spellings(questionnaire: Questionnaire, spelling: object) -> None:
    assert score(questionnaire, full_answers(craving=spelling)).criteria_count == 1


@pytest.mark.parametrize("spelling", ["no", "N", "false", "0", 0, False])
def test_no_spellings(questionnaire: Questionnaire, spelling: object) -> None:
    result = score(questionnaire, full_answers(craving=spelling))
    assert result.criteria_count == 0 and result.answers["craving"] == "no"


def test_yes_spellings_do_not_apply_to_other_items(questionnaire: Questionnaire) -> None:
    with pytest.raises(AnswerError, match="use_12m: 'y' is not an allowed answer"):
        score(questionnaire, {"use_12m": "y"})
    with pytest.raises(AnswerError, match="true/false only fits yes/no questions"):
        score(questionnaire, full_answers(abdominal_pain=True))


def test_item_ids_and_codes_ignore_case_and_spaces(questionnaire: Questionnaire) -> None:
    answers = {
        f" {k.upper()} ": (v.upper() if isinstance(v, str) else v)
        for k, v in full_answers().items()
    }
    assert score(questionnaire, answers).answers == score(questionnaire, full_answers()).answers


def test_same_item_twice_in_different_case_is_an_error(questionnaire: Questionnaire) -> None:
    with pytest.raises(AnswerError, match="craving: is answered twice"):
        score(questionnaire, {**full_answers(), "Craving": "yes"})


@pytest.mark.parametrize("value", ["inject;snort", "snort | inject", ["INJECT", "snort", "snort"]])
def test_multi_select_spellings(questionnaire: Questionnaire, value: object) -> None:
    result = score(questionnaire, full_answers(routes=value))
    assert result.answers["routes"] == ("snort", "inject")


def test_multi_select_declined_cannot_be_mixed(questionnaire: Questionnaire) -> None:
    with pytest.raises(AnswerError, match="'declined' cannot be combined"):
        score(questionnaire, full_answers(routes="snort;declined"))
    assert score(questionnaire, full_answers(routes=";")).missing == ("routes",)


def test_wrong_value_types_are_errors(questionnaire: Questionnaire) -> None:
    with pytest.raises(AnswerError, match="freq_3m: takes one answer, not a list"):
        score(questionnaire, full_answers(freq_3m=["weekly"]))
    with pytest.raises(AnswerError, match="freq_3m: expected a code, got float"):
        score(questionnaire, full_answers(freq_3m=2.5))


def test_provenance(questionnaire: Questionnaire) -> None:
    from ketscreen import __version__

    result = score(questionnaire, {"use_12m": "no"})
    p = result.provenance
    assert (p.questionnaire_id, p.questionnaire_version, p.tool_version) == (
        "ketamine",
        "1.1.0",
        __version__,
    )
    assert p.questionnaire_sha256 == questionnaire.sha256
    assert p.scored_at.endswith("Z") and p.scored_at[:4].isdigit() and "T" in p.scored_at
    assert score(
        questionnaire, {"use_12m": "no"}, scored_at="2026-01-01T00:00:00Z"
    ).provenance.scored_at == ("2026-01-01T00:00:00Z")


def test_contributions_explain_the_counts(questionnaire: Questionnaire) -> None:
    result = score(questionnaire, full_answers(craving="yes", withdrawal="yes", freq_3m="weekly"))
    by_item = {c.item: c for c in result.contributions}
    assert by_item["craving"].points == 1
    assert by_item["craving"].counted_in == ("criteria_count", "warning_signs")
    assert by_item["withdrawal"].counted_in == ("warning_signs",)
    assert (by_item["freq_3m"].points, by_item["freq_3m"].counted_in) == (3, ("frequency",))
    assert (by_item["secrecy"].points, by_item["secrecy"].counted_in) == (None, ())
    data = result.to_dict(explain=True)
    assert data["criteria_count"] == 1 and data["answers"]["routes"] == ["snort"]
    assert {
        "item": "craving",
        "answer": "yes",
        "points": 1,
        "counted_in": ["criteria_count", "warning_signs"],
    } in (data["contributions"])
    assert "contributions" not in result.to_dict()


def test_builtin_examples_cover_every_band_and_level(questionnaire: Questionnaire) -> None:
    from ketscreen.core.examples import check_examples

    assert check_examples(questionnaire) == []
    bands = {e.expect.get("band") for e in questionnaire.examples}
    assert bands == {b.id for b in questionnaire.band_rule.bands}
    levels = set()
    for example in questionnaire.examples:
        levels |= {f.level.value for f in score(questionnaire, example.answers).flags}
    assert levels == {level.value for level in FlagLevel}
    assert any(e.expect.get("lower_bound") is True for e in questionnaire.examples)


def test_no_signs_fixture_is_the_ten_criteria(questionnaire: Questionnaire) -> None:
    criteria = [i.id for i in questionnaire.items.values() if i.criterion]
    assert tuple(criteria) == tuple(NO_SIGNS)
    assert [questionnaire.items[c].criterion for c in criteria] == [f"C{n}" for n in range(1, 11)]
    assert all(questionnaire.items[c].type is ItemType.YES_NO for c in criteria)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("sometimes", "'sometimes'"),
        ("2.5", "'2.5'"),
        ("My secret diary", "a value of 15 characters"),
        ("Jane", "'Jane'"),
        ("x" * 25, "a value of 25 characters"),
        ("café", "a value of 4 characters"),
    ],
)
def test_only_code_like_values_are_quoted_in_errors(
    questionnaire: Questionnaire, value: str, shown: str
) -> None:
    with pytest.raises(AnswerError) as caught:
        score(questionnaire, full_answers(freq_3m=value))
    assert str(caught.value).startswith(f"freq_3m: {shown} is not an allowed answer")
