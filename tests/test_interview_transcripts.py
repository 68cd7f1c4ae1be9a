"""Whole-transcript tests of the screener: type lines, read exactly what a person sees.

Rendering is deterministic (a StringIO console, fixed width, no colour); see
tests/interview_helpers.py. Plain mode unless a test says otherwise.
"""

from __future__ import annotations

import pytest

from ketscreen import __version__
from ketscreen.core.model import Questionnaire
from tests.conftest import full_answers_100 as full_answers
from tests.interview_helpers import keys_for, run


@pytest.fixture
def questionnaire(questionnaire_100: Questionnaire) -> Questionnaire:
    """These transcripts and layouts were written for 1.0.0, which still ships and must
    keep working; 1.1.0's own screens are covered in tests/test_content_1_1.py."""
    return questionnaire_100


NO_USE_TRANSCRIPT = """\

Ketamine use self-check
A private check of warning signs linked to ketamine use: how often you use it,
signs that it is getting harder to control, effects on your body and mind, and
risky ways of using.

- This is a screening tool, not a diagnosis. It shows warning signs and where to
  find help.
- Up to 30 questions, about 5 minutes.
- Private: your answers stay on this computer. Nothing is sent, and nothing is
  saved unless you choose to save it.
- If at any point you feel distressed, you can stop: type q at any question.
- Answer by typing a number and pressing Enter (on yes-or-no questions, y or n
  works too). b goes back, s is prefer not to say, ? is help.

Help shown for: United Kingdom (chosen with --region). To change it, start again
with --region US, UK, CA, AU, IE or INTL.
Need to talk to someone now? Samaritans: Call 116 123 (24/7, free)
Press Enter to start, or type q to stop:

Your use of ketamine. Question 1 of up to 30.
Ketamine is also called K, ket or special K. Answer for yourself. There are no
right or wrong answers, and you can stop at any time.

In the past 12 months, have you used ketamine (K, ket, special K) in a way that
was not prescribed for you?
"Not prescribed" includes any use without a prescription, and using more than a
doctor prescribed. Choose "only as prescribed" if a doctor gave you ketamine and
you used it exactly as they said.

1. Yes
2. Only as prescribed by a doctor
3. No

Type a number and press Enter. Other keys: ? help, q quit.
Need to talk to someone now? Samaritans: Call 116 123 (24/7, free)
Your answer: 3

How you are feeling. Question 2 of 2.
We ask everyone this question, so we can show you the right support. If it is
hard to answer, you can choose "prefer not to say".

In the past month, have you had thoughts that you would be better off dead, or
thoughts of harming yourself or ending your life?
Many people have thoughts like these at hard times, and help works. If you are
in danger right now, call your emergency number.

1. No
2. Yes, in the past month
3. Yes, and I am having these thoughts right now

Type a number and press Enter. Other keys: b back, s prefer not to say, ? help,
q quit.
Need to talk to someone now? Samaritans: Call 116 123 (24/7, free)
Your answer: 1

Check your answers
This is everything you answered. Is it right?

1. Ketamine use in the past 12 months: No
2. Thoughts of being better off dead or of self-harm: No

Type a number to change that answer. Enter: the result. b back, ? help, q quit.
Need to talk to someone now? Samaritans: Call 116 123 (24/7, free)
Your choice:

Your result
No ketamine use in the past year
You have not used ketamine in the past 12 months.

What you can do next
What we suggest: Thank you for checking. If you are worried about ketamine in
the future, or about someone else's use, the services below can help.

Services and helplines: United Kingdom
- Emergency services (emergency): Call 999 (24/7)
- Samaritans (crisis support): Call 116 123 (24/7, free)
- Shout (crisis support): Text SHOUT to 85258 (24/7)
- Childline (for young people under 19) (crisis support): Call 0800 1111, or go
  to childline.org.uk (24/7, free and confidential)
- FRANK (drug help): Call 0300 123 6600, or text 82111 (24/7 by phone; live chat
  2pm to 6pm)
- NHS 111 (England and Wales) (urgent medical help): Call 111, or go to
  111.nhs.uk (24/7, for urgent medical help)
- NHS 24 (Scotland) (urgent medical help): Call 111 (24/7, free, for urgent care
  that is not an emergency)
- GP Out of Hours (Northern Ireland) (urgent medical help): Call your GP
  surgery's number when it is closed, or see nidirect.gov.uk (Weekdays 6pm to
  8am, weekends and public holidays)

This is a screening tool, not a diagnosis. Only a trained professional can
diagnose a substance use problem. Bring your result to a doctor or counselor to
start that conversation.

Questionnaire ketamine version 1.0.0 (sha256 {sha12}), ketscreen {version},
scored 2026-11-21T12:00:00Z.

To keep this result, you can save a copy: type t for a text file or h for a web
page. Nothing is saved otherwise.

Need to talk to someone now? Samaritans: Call 116 123 (24/7, free)
Save a copy (t or h), or press Enter to finish:
"""


def _fill(text: str, questionnaire: Questionnaire) -> str:
    return text.replace("{sha12}", questionnaire.sha256[:12]).replace("{version}", __version__)


def between(text: str, start: str, end: str) -> str:
    """The part of `text` from `start` up to (not including) `end`; both must be there."""
    first = text.index(start)
    return text[first : text.index(end, first + len(start))]


def example(questionnaire: Questionnaire, name: str, **changes: object) -> dict[str, object]:
    found = {e.name: e for e in questionnaire.examples}[name]
    return {**found.answers, **changes}


def test_no_use_whole_transcript(questionnaire: Questionnaire) -> None:
    screen = run(questionnaire, ["", "3", "1", "", ""])
    assert screen.out == _fill(NO_USE_TRANSCRIPT, questionnaire)
    assert screen.result is not None and screen.result.band == "no_recent_use"
    assert screen.result.flags == ()


def test_prescribed_only(questionnaire: Questionnaire) -> None:
    screen = run(questionnaire, ["", "2", "1", "", ""])
    assert "How you are feeling. Question 2 of 2." in screen.out
    result_screen = between(screen.out, "Your choice:\n", "Services and helplines: United Kingdom")
    assert result_screen == (
        "Your choice:\n"
        "\n"
        "Your result\n"
        "Prescribed use only\n"
        "You have used ketamine only as prescribed. If anything about it worries you,\n"
        "talk to the doctor who prescribed it.\n"
        "\n"
        "What you can do next\n"
        "What we suggest: Ketamine given by a doctor can still cause side effects. If you\n"
        "notice bladder problems, memory problems, changes in mood, or a wish to take\n"
        "more than prescribed, tell your prescriber.\n"
        "\n"
    )
    assert "warning signs" not in result_screen  # no count: the signs were not asked


SEVERE_CRISIS_RESULT = """\
Support is available now
If you are in danger now, call 999.
Thank you for telling us. You do not have to go through this alone.
Talk to someone now. These crisis lines are free and confidential:
- Samaritans: Call 116 123 (24/7, free)
- Shout: Text SHOUT to 85258 (24/7)
- Childline (for young people under 19): Call 0800 1111, or go to
  childline.org.uk (24/7, free and confidential)
If you can, stay with someone you trust, and keep away from ketamine, alcohol
and other drugs while you feel like this.

Get medical advice today
Some of what you reported needs a doctor's advice today, not later.
- Blood in urine
- Severe stomach cramps
Where to go: NHS 111 in England and Wales (call 111 or go to 111.nhs.uk); NHS 24
on 111 in Scotland; in Northern Ireland your GP, or GP Out of Hours when the
surgery is closed; call 999 if it is an emergency

Your result
Many warning signs
You reported many warning signs of a ketamine problem.
8 of 10 warning signs.

Warning signs you reported
- Used more, or for longer, than you meant to
- Wanted to cut down, or tried and could not
- A lot of time spent getting, using or recovering
- Strong cravings or urges
- Got in the way of work, school or home
- Kept using despite problems with people close to you
- Kept using despite a health problem
- Needed more for the same effect
You also reported (not counted above):
- Felt unwell after cutting down or stopping
- Hid or lied about use

See a doctor
Book an appointment with a doctor soon and tell them about your ketamine use.
- Needing to pee often or urgently
- Bladder pain or pain when peeing
- Pain in the kidney area
- Memory or concentration problems
- Low mood, anxiety or mood swings

Lower your risk
Some ways you use ketamine carry extra risk. A few changes can make it safer.
- Mixing with alcohol or sedating drugs
- Using alone
- Taking so much you could not move (K-hole)
What helps: Do not mix ketamine with alcohol or other drugs that slow you down.
Do not use alone. Start low and go slow. Never inject; if you do, never share
equipment. Stay seated, and keep away from water, roads and heights.

What you can do next
Where you are now: Well done for starting. Keep going with support: a doctor or
drug service can help with cravings, sleep and low mood, and with what to do
after a slip.
What we suggest: A professional assessment and treatment are strongly
recommended. Treatment is planned around you. It may include medically supported
detox, an outpatient or residential programme, therapy, support groups, and care
for mental health problems at the same time (dual diagnosis). No medicine is
approved specifically for ketamine addiction, but doctors can treat symptoms
such as poor sleep, anxiety and bladder pain.
Stopping safely: Talk to a doctor before stopping suddenly. They can help you
manage how you feel while you cut down or stop.
Your bladder and kidneys: Ketamine can damage the bladder and kidneys. Bladder
damage can get better if use stops early, so see a doctor and tell them you use
ketamine.
If someone else is in trouble: If someone will not respond, is breathing slowly
or has stopped breathing, or is having a seizure, call the emergency number now
and stay with them.

Services and helplines: United Kingdom
- Emergency services (emergency): Call 999 (24/7)
- Samaritans (crisis support): Call 116 123 (24/7, free)
- Shout (crisis support): Text SHOUT to 85258 (24/7)
- Childline (for young people under 19) (crisis support): Call 0800 1111, or go
  to childline.org.uk (24/7, free and confidential)
- FRANK (drug help): Call 0300 123 6600, or text 82111 (24/7 by phone; live chat
  2pm to 6pm)
- NHS 111 (England and Wales) (urgent medical help): Call 111, or go to
  111.nhs.uk (24/7, for urgent medical help)
- NHS 24 (Scotland) (urgent medical help): Call 111 (24/7, free, for urgent care
  that is not an emergency)
- GP Out of Hours (Northern Ireland) (urgent medical help): Call your GP
  surgery's number when it is closed, or see nidirect.gov.uk (Weekdays 6pm to
  8am, weekends and public holidays)

This is a screening tool, not a diagnosis. Only a trained professional can
diagnose a substance use problem. Bring your result to a doctor or counselor to
start that conversation.

Questionnaire ketamine version 1.0.0 (sha256 {sha12}), ketscreen {version},
scored 2026-11-21T12:00:00Z.
"""


def test_severe_with_urgent_flags_and_a_crisis_flag(questionnaire: Questionnaire) -> None:
    answers = example(questionnaire, "severe with urgent flags", self_harm="now")
    screen = run(questionnaire, ["", *keys_for(questionnaire, answers), "", ""])
    result_screen = between(
        screen.out, "Your choice:\n\nSupport is available now", "\nTo keep this result"
    ).removeprefix("Your choice:\n\n")
    assert result_screen == _fill(SEVERE_CRISIS_RESULT, questionnaire)
    assert screen.result is not None
    assert (screen.result.band, screen.result.criteria_count) == ("severe", 8)


def test_severe_with_urgent_flags_puts_them_above_the_band(questionnaire: Questionnaire) -> None:
    answers = example(questionnaire, "severe with urgent flags")
    screen = run(questionnaire, ["", *keys_for(questionnaire, answers), "", ""])
    result_screen = screen.out[screen.out.index("Your choice:") :]
    assert "Support is available now" not in result_screen  # no crisis flag, no crisis panel
    assert result_screen.index("Get medical advice today") < result_screen.index("Your result")
    assert between(result_screen, "Get medical advice today", "\n\n") == (
        "Get medical advice today\n"
        "Some of what you reported needs a doctor's advice today, not later.\n"
        "- Blood in urine\n"
        "- Severe stomach cramps\n"
        "Where to go: NHS 111 in England and Wales (call 111 or go to 111.nhs.uk); NHS 24\n"
        "on 111 in Scotland; in Northern Ireland your GP, or GP Out of Hours when the\n"
        "surgery is closed; call 999 if it is an emergency"
    )


SELF_HARM_NOW_PANEL = """\
Your answer: 3

Support is available now
If you are in danger now, call 911.
Thank you for telling us. You do not have to go through this alone.
Talk to someone now. These crisis lines are free and confidential:
- 988 Suicide & Crisis Lifeline: Call or text 988, or chat at 988lifeline.org
  (24/7)
If you can, stay with someone you trust, and keep away from ketamine, alcohol
and other drugs while you feel like this.
Need to talk to someone now? 988 Suicide & Crisis Lifeline: Call or text 988, or
chat at 988lifeline.org (24/7)
When you are ready, press Enter to go on, or q to stop:

Looking ahead. Question 30 of 30.
"""


def test_self_harm_now_shows_the_crisis_panel_before_the_next_question(
    questionnaire: Questionnaire,
) -> None:
    typed = keys_for(questionnaire, full_answers(self_harm="now"))
    screen = run(questionnaire, ["", *typed, "", ""], region="US")
    # the answer, then at once the crisis panel, leading with the emergency number;
    # only after Enter the next question
    last_questions = screen.out[screen.out.index("How you are feeling. Question 29") :]
    assert between(last_questions, "Your answer: 3\n", "\nWhich of these") == SELF_HARM_NOW_PANEL
    assert screen.result is not None and screen.result.top_flag_level is not None
    result_screen = screen.out[screen.out.index("Your choice:") :]
    assert result_screen.index("If you are in danger now, call 911.") < result_screen.index(
        "Your result"
    )


def test_self_harm_past_month_panel_and_no_reassuring_headline_above_it(
    questionnaire: Questionnaire,
) -> None:
    screen = run(questionnaire, ["", "3", "2", "", "", ""])
    panel = between(screen.out, "Support is available now", "When you are ready")
    assert panel == (
        "Support is available now\n"
        "Thank you for telling us. Please talk to someone today.\n"
        "These crisis lines are free and confidential:\n"
        "- Samaritans: Call 116 123 (24/7, free)\n"
        "- Shout: Text SHOUT to 85258 (24/7)\n"
        "- Childline (for young people under 19): Call 0800 1111, or go to\n"
        "  childline.org.uk (24/7, free and confidential)\n"
        "If you are in danger now, call 999.\n"
        "If you can, stay with someone you trust, and keep away from ketamine, alcohol\n"
        "and other drugs while you feel like this.\n"
        "Need to talk to someone now? Samaritans: Call 116 123 (24/7, free)\n"
    )
    # the crisis panel comes before the review screen, and first on the result
    assert screen.out.index("Support is available now") < screen.out.index("Check your answers")
    result_screen = screen.out[screen.out.index("Your choice:") :]
    assert result_screen.index("Support is available now") < result_screen.index(
        "You have not used ketamine in the past 12 months."
    )


def test_back_and_change_an_answer_so_follow_ups_disappear(questionnaire: Questionnaire) -> None:
    typed = ["", "1", "4", "1 3", "b", "b", "b", "3", "y", "1", "", ""]
    screen = run(questionnaire, typed)
    assert between(screen.out, "Your answer: 1 3\n", "Have you often used more") == (
        "Your answer: 1 3\n"
        "\n"
        "Warning signs. Question 4 of 30.\n"
        "These questions are about the past 12 months. Many people who use ketamine\n"
        "notice some of these. Answer yes or no.\n"
        "\n"  # no "About the past 12 months." under an intro that says so
    )
    # three times back: the multi-select, the frequency, then the first question, each
    # showing the answer given
    assert "1. Snorted (sniffed) it  (your answer now)\n" in screen.out
    assert "4. Weekly  (your answer now)\n" in screen.out
    assert "1. Yes  (your answer now)\n" in screen.out
    assert between(screen.out, "Your answer: 3\n", "We ask everyone") == (
        "Your answer: 3\n"
        'With "No" as the answer, 2 questions you have answered no longer apply, and\n'
        "their answers will be set aside. If you change this answer back before the end,\n"
        "they come back.\n"
        'Type y to change it, or press Enter to keep "Yes": y\n'
        "\n"
        "Because of that change, 2 questions no longer apply; their answers were set\n"
        "aside (change it back to bring them back).\n"
        "How you are feeling. Question 2 of 2.\n"
    )
    review = between(screen.out, "Check your answers", "Type a number to change")
    assert review.endswith(
        "1. Ketamine use in the past 12 months: No\n"
        "2. Thoughts of being better off dead or of self-harm: No\n"
        "\n"
    )
    assert screen.result is not None
    assert dict(screen.result.answers) == {"use_12m": "no", "self_harm": "no"}


def test_changing_an_answer_on_the_review_screen(questionnaire: Questionnaire) -> None:
    """no -> yes opens the follow-ups: only they are asked, then the review again."""
    every = keys_for(questionnaire, full_answers())
    self_harm = questionnaire.order.index("self_harm")
    follow_ups = every[1:self_harm] + every[self_harm + 1 :]  # self_harm is answered already
    # no use, no self-harm thoughts; on the review, 1 (change use_12m), 1 (yes)
    typed = ["", "3", "1", "1", "1", *follow_ups, "", ""]
    screen = run(questionnaire, typed)
    after = screen.out[screen.out.index("Your choice: 1") :]
    assert "Your use of ketamine. Change your answer.\n" in after
    assert "Your use of ketamine. Question 2 of 30.\n" in after
    asked_again = after.split("Check your answers")[0]
    assert "How you are feeling." not in asked_again  # answered before: not asked again
    assert "Looking ahead. Question 30 of 30." in asked_again
    assert after.count("Check your answers") == 1
    assert "30. How you feel about changing your use: I'm thinking about changing it\n" in after
    assert screen.result is not None and screen.result.band == "low"


def test_declined_criteria_give_a_lower_bound(questionnaire: Questionnaire) -> None:
    answers = full_answers(
        more_than_intended="yes",
        cut_down_failed="declined",
        craving="yes",
        neglect_obligations="declined",
        social_problems="yes",
        tolerance="yes",
    )
    screen = run(questionnaire, ["", *keys_for(questionnaire, answers), "", ""])
    assert "Your answer now: prefer not to say." not in screen.out
    assert between(screen.out, "Your result\n", "\n\n") == (
        "Your result\n"
        "Several warning signs (at least)\n"
        "You reported several warning signs of a ketamine problem.\n"
        "At least 4 of 10 warning signs. 2 of these questions were not answered, so the\n"
        "number could be higher."
    )
    assert "5. Wanted to cut down, or tried and could not: Prefer not to say\n" in screen.out
    assert screen.result is not None and screen.result.lower_bound


def test_too_many_declined_is_incomplete(questionnaire: Questionnaire) -> None:
    answers = full_answers(
        more_than_intended="declined", cut_down_failed="declined", time_spent="declined"
    )
    screen = run(questionnaire, ["", *keys_for(questionnaire, answers), "", ""])
    assert between(screen.out, "Your result\n", "\n\n") == (
        "Your result\n"
        "Not enough answers for a result\n"
        "Too many of the warning-sign questions were skipped to give a result. You can\n"
        "take the check again at any time.\n"
        "You answered 7 of the 10 warning-sign questions; a result needs answers to at\n"
        "least 8."
    )
    assert screen.result is not None and screen.result.band == "incomplete"


def test_invalid_keys_re_ask_and_list_the_valid_keys(questionnaire: Questionnaire) -> None:
    typed = ["", "x", "s", "b", "", "4", "1 2", "1", "9", "1,3", "q"]
    screen = run(questionnaire, typed)
    first = between(screen.out, "Your answer: x\n", "Your answer: 1\n")
    assert first == (
        "Your answer: x\n"
        '"x" is not one of the choices. Type 1, 2 or 3, or one of these keys: ? (help), q\n'
        "(quit).\n"
        "Your answer: s\n"
        "This question needs an answer to go on. Type 1, 2 or 3, or one of these keys: ?\n"
        "(help), q (quit).\n"
        "Your answer: b\n"
        "This is the first question, so there is no going back. Type 1, 2 or 3, or one of\n"
        "these keys: ? (help), q (quit).\n"
        "Your answer:\n"
        "Please type an answer. Type 1, 2 or 3, or one of these keys: ? (help), q (quit).\n"
        "Your answer: 4\n"
        '"4" is not one of the choices. Type 1, 2 or 3, or one of these keys: ? (help), q\n'
        "(quit).\n"
        "Your answer: 1 2\n"
        '"1 2" is not one of the choices. Type 1, 2 or 3, or one of these keys: ? (help),\n'
        "q (quit).\n"
    )
    # on the next question (one answer of five) the list of keys has grown, and
    # several numbers are refused, with commas as with spaces
    assert between(screen.out, "Your answer: 9\n", "Your answer: q") == (
        "Your answer: 9\n"
        '"9" is not one of the choices. Type 1, 2, 3, 4 or 5, or one of these keys: b\n'
        "(back), s (prefer not to say), ? (help), q (quit).\n"
        "Your answer: 1,3\n"
        '"1,3" is not one of the choices. Type 1, 2, 3, 4 or 5, or one of these keys: b\n'
        "(back), s (prefer not to say), ? (help), q (quit).\n"
    )


def test_words_are_accepted_as_well_as_numbers(questionnaire: Questionnaire) -> None:
    screen = run(questionnaire, ["", "No", "no", "", ""])
    assert screen.result is not None
    assert dict(screen.result.answers) == {"use_12m": "no", "self_harm": "no"}


def test_multi_select_takes_numbers_with_spaces_or_commas(questionnaire: Questionnaire) -> None:
    screen = run(questionnaire, ["", "1", "3", "1, 3", "q"])
    assert "Your answer: 1, 3\n\nWarning signs. Question 4 of 30." in screen.out


def test_help_key_explains_the_keys_and_the_question(questionnaire: Questionnaire) -> None:
    screen = run(questionnaire, ["", "?", "q"])
    assert between(screen.out, "Your answer: ?\n", "Your answer: q") == (
        "Your answer: ?\n"
        "Help\n"  # not the question's help again: it is on the screen already
        "- Type the number of your answer, 1 to 3.\n"
        "- q: stop the check now; nothing is saved\n"
        "- The words back, skip, help, quit work too.\n"
    )


def test_quit_says_nothing_was_saved(questionnaire: Questionnaire) -> None:
    screen = run(questionnaire, ["", "1", "q"])
    assert screen.result is None and not screen.input_ended
    assert screen.out.endswith(
        "Your answer: q\n"
        "\n"
        "You stopped the check. Nothing was saved. You can start again at any time.\n"
        "Need to talk to someone now? Samaritans: Call 116 123 (24/7, free)\n"
    )


def test_quit_at_the_welcome(questionnaire: Questionnaire) -> None:
    screen = run(questionnaire, ["q"])
    assert screen.result is None
    assert "Question 1" not in screen.out
    assert "You stopped the check. Nothing was saved." in screen.out


def test_quit_after_a_crisis_answer_shows_the_crisis_panel_again(
    questionnaire: Questionnaire,
) -> None:
    screen = run(questionnaire, ["", "3", "3", "q"])
    ending = screen.out[screen.out.index("You stopped the check") :]
    assert ending.startswith(
        "You stopped the check. Nothing was saved. You can start again at any time.\n"
        "Support is available now\n"
        "If you are in danger now, call 999.\n"
    )


def test_end_of_input_before_the_result(questionnaire: Questionnaire) -> None:
    screen = run(questionnaire, ["", "1", "4"])
    assert screen.input_ended and screen.result is None
    assert screen.out.endswith(
        "Your answer:\nNeed to talk to someone now? Samaritans: Call 116 123 (24/7, free)\n"
    )


def test_end_of_input_after_the_result_just_finishes(questionnaire: Questionnaire) -> None:
    screen = run(questionnaire, ["", "3", "1", ""])
    assert not screen.input_ended
    assert screen.result is not None and screen.result.band == "no_recent_use"


@pytest.mark.parametrize("region", ["US", "UK", "CA", "AU", "IE", "INTL"])
def test_every_screen_names_the_regions_crisis_line(
    questionnaire: Questionnaire, region: str
) -> None:
    from ketscreen.io.resources import load_resources

    crisis = load_resources()[region].crisis_line
    screen = run(questionnaire, ["", "3", "1", "", ""], width=120, region=region)
    line = f"Need to talk to someone now? {crisis.name}: {crisis.contact} ({crisis.hours})"
    # welcome, question 1, question 2, review, result (long lines may wrap)
    assert " ".join(screen.out.split()).count(line) == 5


def test_going_back_to_a_declined_question_says_so(questionnaire: Questionnaire) -> None:
    screen = run(questionnaire, ["", "1", "s", "b", "q"])
    revisit = screen.out[screen.out.index("Your answer: b") :]
    assert "Your answer now: prefer not to say.\n" in revisit
    assert "Type a number and press Enter, or just press Enter to keep your answer." in (
        " ".join(revisit.split())
    )


def test_a_change_on_the_review_that_removes_answers_is_announced_there(
    questionnaire: Questionnaire,
) -> None:
    typed = ["", *keys_for(questionnaire, full_answers()), "1", "3", "yes", "", ""]
    screen = run(questionnaire, typed)
    after_review = screen.out[screen.out.index("Your choice: 1") :]
    assert between(after_review, "Your answer: 3\n", "This is everything") == (
        "Your answer: 3\n"
        'With "No" as the answer, 28 questions you have answered no longer apply, and\n'
        "their answers will be set aside. If you change this answer back before the end,\n"
        "they come back.\n"
        'Type y to change it, or press Enter to keep "Yes": yes\n'
        "\n"
        "Because of that change, 28 questions no longer apply; their answers were set\n"
        "aside (change it back to bring them back).\n"
        "Check your answers\n"
    )
    assert screen.result is not None and screen.result.band == "no_recent_use"


def test_welcome_takes_only_enter_or_q(questionnaire: Questionnaire) -> None:
    screen = run(questionnaire, ["yes", "q"])
    assert (
        "Press Enter to start, or type q to stop: yes\nPress Enter to start, or type q to stop.\n"
    ) in screen.out


def test_help_on_a_choose_all_question(questionnaire: Questionnaire) -> None:
    screen = run(questionnaire, ["", "1", "2", "?", "q"])
    assert between(screen.out, "Your answer: ?\n", "Your answer: q") == (
        "Your answer: ?\n"
        "Help\n"
        "- Choose all that apply: type their numbers with spaces between, like 1 3.\n"
        "- b: back to the question before; your answers are kept\n"
        "- s: prefer not to say: that is fine, the question is left out of your result\n"
        "- q: stop the check now; nothing is saved\n"
        "- The words back, skip, help, quit work too.\n"
    )


def test_ctrl_c_leaves_the_crisis_line_on_screen(questionnaire: Questionnaire) -> None:
    from io import StringIO

    from ketscreen.io.resources import choose_region, load_resources
    from ketscreen.ui.screener import run_screener
    from tests.interview_helpers import output, terminal

    class CtrlCAfter(StringIO):
        def readline(self, size: int | None = -1) -> str:
            line = super().readline()
            if not line:
                raise KeyboardInterrupt
            return line

    term = terminal([])
    term.stream = CtrlCAfter("\n3\n3\n")  # no use, thoughts of self-harm now, then Ctrl-C
    with pytest.raises(KeyboardInterrupt):
        run_screener(term, questionnaire, load_resources()["UK"], choose_region("UK", {}))
    ending = output(term).split("When you are ready, press Enter to go on, or q to stop:")[1]
    # the crisis panel again, then the crisis line; the CLI then says nothing was saved
    assert ending.startswith("\nSupport is available now\nIf you are in danger now, call 999.")
    assert ending.endswith("Need to talk to someone now? Samaritans: Call 116 123 (24/7, free)\n")
