"""The pure interview state machine: order, back, changes that re-apply skip logic."""

from __future__ import annotations

import pytest

from ketscreen import AnswerError
from ketscreen.core.interview import Interview
from ketscreen.core.model import Questionnaire
from tests.conftest import full_answers


def test_no_use_asks_two_questions(questionnaire: Questionnaire) -> None:
    interview = Interview(questionnaire)
    assert interview.current is not None and interview.current.id == "use_12m"
    assert interview.position == (1, 2)  # before an answer only always-asked items count
    interview.answer("no")
    assert interview.current is not None and interview.current.id == "self_harm"
    assert interview.position == (2, 2)
    interview.answer("no")
    assert interview.finished and interview.current is None
    assert interview.result().band == "no_recent_use"


def test_yes_opens_every_question(questionnaire: Questionnaire) -> None:
    interview = Interview(questionnaire)
    interview.answer("yes")
    assert interview.position == (2, 32)
    assert interview.current is not None and interview.current.id == "freq_3m"


def test_back_then_change_drops_follow_up_answers(questionnaire: Questionnaire) -> None:
    interview = Interview(questionnaire)
    interview.answer("yes")
    interview.answer("weekly")
    interview.answer(["snort"])
    assert interview.back() and interview.back() and interview.back()
    assert interview.back() is False
    dropped = interview.answer("no")
    assert dropped == ["freq_3m", "routes"]
    assert interview.answers == {"use_12m": "no"}
    assert interview.current is not None and interview.current.id == "self_harm"


def test_change_from_review_keeps_the_cursor_at_the_end(questionnaire: Questionnaire) -> None:
    interview = Interview(questionnaire, full_answers())
    assert interview.finished
    interview.change("craving", "yes")
    assert interview.finished and interview.result().criteria_count == 1
    interview.change("use_12m", "no")
    assert interview.finished and interview.questions() == ("use_12m", "self_harm")
    with pytest.raises(KeyError):
        interview.change("craving", "yes")


def test_decline_and_blank(questionnaire: Questionnaire) -> None:
    interview = Interview(questionnaire, {"use_12m": "yes"})
    assert interview.current is not None and interview.current.id == "freq_3m"
    interview.decline()
    assert interview.answer_of("freq_3m") == "declined"
    interview.go_to("freq_3m")
    interview.answer("")
    assert interview.answer_of("freq_3m") is None
    assert interview.current is not None and interview.current.id == "routes"
    interview.go_to("use_12m")
    with pytest.raises(AnswerError):
        interview.decline()  # use_12m cannot be declined


def test_resume_point_is_the_first_unanswered(questionnaire: Questionnaire) -> None:
    answers = full_answers()
    del answers["k_hole"]
    interview = Interview(questionnaire, answers)
    assert interview.current is not None and interview.current.id == "k_hole"
    interview.go_to("use_12m")
    interview.resume_point()
    assert interview.current is not None and interview.current.id == "k_hole"


def test_stale_answers_given_at_start_are_dropped(questionnaire: Questionnaire) -> None:
    interview = Interview(questionnaire, {"use_12m": "no", "craving": "yes"})
    assert interview.answers == {"use_12m": "no"}


def test_answer_after_the_end_is_an_error(questionnaire: Questionnaire) -> None:
    interview = Interview(questionnaire, {"use_12m": "no", "self_harm": "no"})
    with pytest.raises(IndexError):
        interview.answer("no")
