"""Session reports: what a counselor files, in every format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ketscreen.core.model import Questionnaire
from ketscreen.io.resources import load_resources
from ketscreen.io.sessions import Session
from ketscreen.ui.reports import ReportFormat, format_for_path, formatter_for, render_report
from ketscreen.ui.reports.as_markdown import escape
from ketscreen.ui.result_view import DISCLAIMER
from tests.conftest import full_answers_100 as full_answers


@pytest.fixture
def questionnaire(questionnaire_100: Questionnaire) -> Questionnaire:
    """These transcripts and layouts were written for 1.0.0, which still ships and must
    keep working; 1.1.0's own screens are covered in tests/test_content_1_1.py."""
    return questionnaire_100


SID = "20261121-100000-abcde"


def at(minute: int) -> str:
    return f"2026-11-21T10:{minute:02d}:00Z"


def run(
    questionnaire: Questionnaire, answers: dict[str, object], *, finish: bool = True
) -> Session:
    session = Session.start(SID, questionnaire, "C-0042", "Sam", at=at(0))
    interview = session.interview()
    while not interview.finished and interview.current.id in answers:  # type: ignore[union-attr]
        interview.answer(answers[interview.current.id])  # type: ignore[union-attr]
        session.record_answers(interview.answers, at=at(1))
    if finish:
        session.complete(at=at(4))
    return session


@pytest.fixture
def crisis(questionnaire: Questionnaire) -> Session:
    session = run(questionnaire, {"use_12m": "no", "self_harm": "now"})
    session.add_safety_note(
        "self_harm", "now", "emergency", "Stayed with the client; crisis team called", at=at(2)
    )
    session.add_note("Safety plan made; crisis line called together.", "self_harm", at=at(3))
    return session


@pytest.fixture
def busy(questionnaire: Questionnaire) -> Session:
    """Several flag levels, a declined criterion (lower bound), notes and an amendment."""
    session = run(
        questionnaire,
        full_answers(
            craving="yes",
            tolerance="yes",
            cut_down_failed="declined",
            withdrawal="yes",
            secrecy="yes",
            routes=["snort", "inject"],
            urine_blood="yes",
            memory_problems="yes",
            self_harm="past_month",
            readiness="ready",
        ),
    )
    session.add_note("Binges at weekends | <b>not bold</b> # not a heading", "craving", at=at(2))
    session.add_note("Engaged throughout.\nWill come back next week.", at=at(3))
    session.amend("more_than_intended", "yes", "client clarified after a break", at=at(5))
    return session


def test_the_text_report_of_a_crisis_in_full(crisis: Session, questionnaire: Questionnaire) -> None:
    assert render_report(crisis, ReportFormat.TEXT) == (
        f"""\
KETAMINE USE SELF-CHECK: INTAKE REPORT
======================================

Client:        C-0042
Counselor:     Sam
Session:       20261121-100000-abcde
Status:        completed
Started:       2026-11-21 10:00 UTC
Completed:     2026-11-21 10:04 UTC
Last change:   2026-11-21 10:04 UTC
Questionnaire: ketamine 1.0.0
SHA-256:       {questionnaire.sha256}
Scored by:     ketscreen 0.1.0

Confidential: this report holds health information about the client. Keep it
secure and share it only as agreed with the client, within the limits of
confidentiality explained at the start.

FLAGS, MOST URGENT FIRST
------------------------

[Emergency (emergency)]

If you are in danger now, call your emergency number. You do not have to go
through this alone.

- Thoughts of suicide or self-harm right now

[For the counselor: safety protocol]

- The client reported thoughts of suicide or self-harm right now.
- Assess now: ask about a plan, intent, means and past attempts, for example
  with the C-SSRS screener or the ASQ brief suicide safety assessment.
- Do not leave the client alone.
- Follow your service's own protocol.
- Record what was done in the safety note.

Time                  About                         Safety note
--------------------  ----------------------------  ----------------------------
2026-11-21 10:02 UTC  Thoughts of being better off  Stayed with the client;
                      dead or of self-harm          crisis team called

RESULT
------

Band: No ketamine use in the past year (no_recent_use)

USE OF KETAMINE (PAST 12 MONTHS)
--------------------------------

Question                            Answer  Flag
----------------------------------  ------  ----
Ketamine use in the past 12 months  No

SAFETY (PAST MONTH)
-------------------

Question                           Answer                              Flag
---------------------------------  ----------------------------------  ---------
Thoughts of being better off dead  Yes, and I am having these          Emergency
or of self-harm                    thoughts right now

NOTES
-----

About                         Time                  Note
----------------------------  --------------------  ----------------------------
Thoughts of being better off  2026-11-21 10:03 UTC  Safety plan made; crisis
dead or of self-harm                                line called together.

GUIDANCE SUMMARY
----------------

[For this result]

Thank you for checking. If you are worried about ketamine in the future, or
about someone else's use, the services below can help.

DISCLAIMER
----------

This is a screening tool, not a diagnosis. Only a trained professional can
diagnose a substance use problem. Bring your result to a doctor or counselor to
start that conversation.
"""
    )


def plain(fmt: ReportFormat, text: str) -> str:
    """The words of a report, whatever its markup, for order and content checks."""
    if fmt is ReportFormat.HTML:
        text = re.sub(r"<[^>]+>", " ", text.split("<body>", 1)[1])
        text = text.replace("&#x27;", "'").replace("&lt;", "<").replace("&gt;", ">")
        text = text.replace("&amp;", "&")
    if fmt is ReportFormat.MARKDOWN:
        text = re.sub(r"\\(.)", r"\1", text.replace("**", ""))
    return " ".join(text.split())


PEOPLE_FORMATS = [f for f in ReportFormat if f not in (ReportFormat.JSON, ReportFormat.FHIR)]


@pytest.mark.parametrize("fmt", PEOPLE_FORMATS)
def test_every_format_has_every_part_in_order(busy: Session, fmt: ReportFormat) -> None:
    text = plain(fmt, render_report(busy, fmt, load_resources()["UK"])).casefold()
    expected_in_order = [
        "C-0042",
        "Sam",
        SID,
        "amended",
        "ketamine 1.0.0",
        busy.questionnaire.sha256,
        "Confidential",
        "Flags, most urgent first",
        "Crisis support (crisis)",
        "Thoughts of suicide or self-harm in the past month",
        "Get medical advice today (urgent)",
        "Blood in urine",
        "See a doctor (see_doctor)",
        "Memory or concentration problems",
        "Lower your risk (harm_reduction)",
        "Injecting",
        "Result",  # the band after the flags
        "Some warning signs (mild)",
        "Warning signs, criteria C1-C10 (past 12 months)",
        "C10",
        "Withdrawal and secrecy",
        "Felt unwell after cutting down or stopping",
        "Hid or lied about use",
        "Health (past 3 months)",
        "Blood in urine",
        "Risk (past 3 months)",
        "Used alone",
        "Safety (past month)",
        "Yes, in the past month",
        "Readiness to change",
        "ready to make a change",
        "Notes",
        "Binges at weekends",
        "Will come back next week.",
        "Changes after completion",
        "client clarified",
        "Guidance summary",
        "Good next steps",  # readiness guidance
        "Where to get help: United Kingdom (UK)",
        "Samaritans",
        "Disclaimer",
        DISCLAIMER,
    ]
    position = 0
    for part in expected_in_order:
        found = text.find(part.casefold(), position)
        assert found >= 0, f"{part!r} missing or out of order in {fmt.value}"
        position = found + len(part)


@pytest.mark.parametrize("fmt", PEOPLE_FORMATS)
def test_counts_are_at_least_when_answers_are_missing(busy: Session, fmt: ReportFormat) -> None:
    text = plain(fmt, render_report(busy, fmt))
    assert "At least: Some warning signs (mild)" in text
    assert re.search(r"Warning signs \(of 10\):? at least 3", text)
    assert "the true counts may be higher" in text
    # How often is not a count of signs: never "at least".
    assert re.search(r"How often used \(0 = not at all, 4 = daily\):? 2", text)


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_an_unfinished_session_says_so(questionnaire: Questionnaire, fmt: ReportFormat) -> None:
    session = run(questionnaire, {"use_12m": "yes", "freq_3m": "weekly"}, finish=False)
    text = render_report(session, fmt)
    if fmt is ReportFormat.FHIR:
        data = json.loads(text)
        assert data["status"] == "in-progress"
        [band] = [i for i in data["item"][-1]["item"] if i["linkId"] == "result.band"]
        assert band["answer"][0]["valueCoding"]["code"] == "incomplete"
    elif fmt is ReportFormat.JSON:
        data = json.loads(text)
        assert data["session"]["status"] == "in-progress"
        assert data["session"]["unanswered"][0] == "routes"
        assert data["result"]["band"] == "incomplete"
    else:
        assert "IN PROGRESS: this session is not finished" in plain(fmt, text)
        assert "Questions not answered yet: 28." in plain(fmt, text)
        assert "Not answered" in text
        words = plain(fmt, text)
        assert "NOT ASSESSED: Not finished: the safety question was not asked" in words
        assert "No flags were raised." not in words


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_a_session_with_no_answer_yet(questionnaire: Questionnaire, fmt: ReportFormat) -> None:
    session = Session.start(SID, questionnaire, "C-0042", at=at(0))
    text = render_report(session, fmt)
    if fmt is ReportFormat.FHIR:
        assert "item" not in json.loads(text)
    elif fmt is ReportFormat.JSON:
        assert json.loads(text)["result"] is None
    else:
        words = plain(fmt, text)
        assert "No result yet: the first question has not been answered." in words
        assert "NOT ASSESSED: no question has been answered yet." in words
        assert "No flags were raised." not in words
        assert "No notes." in words
        assert "No guidance yet" in words
        assert "not recorded" in words  # no counselor


def test_a_stopped_session_says_so(questionnaire: Questionnaire) -> None:
    session = run(questionnaire, {"use_12m": "yes"}, finish=False)
    session.stop(at=at(2))
    assert "STOPPED: this session was ended before the last question" in render_report(
        session, ReportFormat.TEXT
    )


def test_the_criteria_table_says_what_counted(busy: Session) -> None:
    text = render_report(busy, ReportFormat.MARKDOWN)
    assert "| Criterion | Warning sign | Answer | Counted |" in text
    assert "| C1 | Used more, or for longer, than you meant to | Yes | counted |" in text
    assert (
        "| C2 | Wanted to cut down, or tried and could not | Prefer not to say | no answer |"
        in text
    )
    assert "| C3 | A lot of time spent getting, using or recovering | No | not counted |" in text


def test_markdown_escapes_what_a_session_holds(busy: Session) -> None:
    text = render_report(busy, ReportFormat.MARKDOWN)
    assert r"Binges at weekends \| \<b\>not bold\</b\> \# not a heading" in text
    for line in text.splitlines():
        if line.startswith("| "):  # every row of a table has as many cells as its header
            cells = re.split(r"(?<!\\)\|", line)
            assert len(cells) - 2 in (3, 4, 5), line
    assert "<b>" not in text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("- not a list", r"\- not a list"),
        ("1. not a list", r"1\. not a list"),
        ("# heading", r"\# heading"),
        ("a_b *c* [d](e) `f` ~g~ &amp;", r"a\_b \*c\* \[d\](e) \`f\` \~g\~ \&amp;"),
        ("two\nlines", "two lines"),
    ],
)
def test_markdown_escape(raw: str, shown: str) -> None:
    assert escape(raw) == shown


def test_html_is_self_contained_escaped_and_printable(busy: Session) -> None:
    text = render_report(busy, ReportFormat.HTML, load_resources()["US"])
    assert text.startswith("<!DOCTYPE html>")
    for forbidden in ("<script", "<link", "src=", "href=", "url(", "@import", "<b>not"):
        assert forbidden not in text
    assert "&lt;b&gt;not bold&lt;/b&gt;" in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert "@page" in text and "@media print" in text
    assert "break-inside: avoid" in text and "display: table-header-group" in text
    assert "Engaged throughout.<br>Will come back next week." in text
    # Levels are written in words, never told by colour alone.
    assert "<h3>Crisis support (crisis)</h3>" in text


def test_json_is_stable_and_machine_readable(busy: Session) -> None:
    data = json.loads(render_report(busy, ReportFormat.JSON, load_resources()["IE"]))
    assert list(data) == [
        "format",
        "session",
        "questionnaire",
        "result",
        "flags",
        "criteria",
        "sections",
        "notes",
        "safety_notes",
        "amendments",
        "guidance",
        "region",
        "confidential",
        "disclaimer",
    ]
    assert data["format"] == "ketscreen-report/1"
    assert data["session"]["completed"] == at(4) and data["session"]["updated"] == at(5)
    result = busy.result()
    assert result is not None and data["result"] == result.to_dict()
    assert [g["level"] for g in data["flags"]] == [
        "crisis",
        "urgent",
        "see_doctor",
        "harm_reduction",
    ]
    assert data["criteria"][1] == {
        "item": "cut_down_failed",
        "question": "Wanted to cut down, or tried and could not",
        "answer": "declined",
        "answer_label": "Prefer not to say",
        "criterion": "C2",
        "counted": None,
    }
    routes = data["sections"][0]["answers"][2]
    assert routes["answer"] == ["snort", "inject"] and routes["flag_level"] == "harm_reduction"
    assert data["amendments"] == [
        {
            "at": at(5),
            "item": "more_than_intended",
            "old": "No",
            "new": "Yes",
            "reason": "client clarified after a break",
        }
    ]
    assert data["region"]["code"] == "IE"
    assert data["disclaimer"] == DISCLAIMER


def test_text_fits_80_columns(busy: Session) -> None:
    text = render_report(busy, ReportFormat.TEXT, load_resources()["US"])
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_every_format_has_a_formatter_and_a_suffix(fmt: ReportFormat) -> None:
    formatter = formatter_for(fmt)
    assert formatter.suffix.startswith(".")
    assert format_for_path(Path(f"report{formatter.suffix}")) is fmt


def test_format_from_a_file_name() -> None:
    assert format_for_path(Path("r.HTM")) is ReportFormat.HTML
    assert format_for_path(Path("r.markdown")) is ReportFormat.MARKDOWN
    assert format_for_path(Path("r.pdf")) is None


def test_a_questionnaire_without_guidance(busy: Session) -> None:
    from dataclasses import replace

    from ketscreen.core.model import Guidance

    bare = replace(busy.questionnaire, guidance=Guidance({}, None, {}, ()))
    session = replace(busy, questionnaire=bare)
    text = render_report(session, ReportFormat.TEXT)
    assert "The questionnaire has no guidance for this result." in text


def test_times_that_are_not_utc_are_shown_as_they_are() -> None:
    from ketscreen.ui.reports.content import when

    assert when("2026-11-21T10:00:00Z") == "2026-11-21 10:00 UTC"
    assert when("2026-11-21T10:00:00+01:00") == "2026-11-21T10:00:00+01:00"


def test_a_table_too_wide_for_the_page_wraps_without_losing_words() -> None:
    from ketscreen.ui.reports.as_text import render_block
    from ketscreen.ui.reports.content import Table

    columns = tuple(f"column {i}" for i in range(9))
    lines = render_block(Table(columns, (tuple("word " * 5 for _ in columns),)))
    assert "column 0" in lines[0]
    assert sum(line.count("word") for line in lines) == 45
