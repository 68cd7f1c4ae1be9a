"""A client's history over time and their take-home sheet (#14, points 3 and 4).

One client, C-0042, screened three times with the ketamine check (6, then 5, then 4
warning signs; a bladder alert at the last) and once with the SDS; another client in
the same folder must never show up in C-0042's reports.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketscreen import load_questionnaire
from ketscreen.cli import app
from ketscreen.core.model import Questionnaire
from ketscreen.errors import ExitCode
from ketscreen.io.session_store import SessionStore
from ketscreen.io.sessions import Session, SessionError, parse_document
from tests.conftest import CRITERIA, SDS_ANSWERS, full_answers
from tests.helpers import unavailable

runner = CliRunner()
CLIENT = "C-0042"
NEXT_STEPS = "Go to the drug service drop-in on Tuesday. Tell my GP about the bladder pain."
NOTE = "Client mentioned a partner who worries about the use"
SAFETY_NOTE = "Talked through the crisis plan"


def _session(
    store: SessionStore,
    q: Questionnaire,
    answers: dict[str, object],
    day: str,
    client: str = CLIENT,
) -> Session:
    session = store.create(q, client, "Sam", at=f"2026-{day}T10:00:00Z", region="UK")
    session.record_answers(answers, at=f"2026-{day}T10:05:00Z")  # type: ignore[arg-type]
    session.complete(at=f"2026-{day}T10:20:00Z")
    store.save(session)
    return session


def _signs(count: int, **more: object) -> dict[str, object]:
    return full_answers(**dict.fromkeys(CRITERIA[:count], "yes"), **more)


@pytest.fixture
def screened() -> dict[str, Session]:
    """Three ketamine checks and one SDS for C-0042; one check for someone else."""
    store = SessionStore()
    ketamine = load_questionnaire()
    sds = load_questionnaire(instrument="sds")
    found = {
        "first": _session(store, ketamine, _signs(6), "10-01"),
        "sds": _session(store, sds, SDS_ANSWERS, "10-02"),
        "second": _session(store, ketamine, _signs(5), "11-01"),
        "other": _session(store, ketamine, _signs(1), "11-15", client="C-0099"),
        "last": _session(store, ketamine, _signs(4, bladder_pain="yes"), "12-01"),
    }
    last = found["last"]
    last.add_note(NOTE, at="2026-12-01T10:21:00Z")
    last.set_next_steps(NEXT_STEPS, at="2026-12-01T10:25:00Z")
    store.save(last)
    return found


def _report(*args: str) -> str:
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_the_report_lists_earlier_results_with_the_change_in_words(
    screened: dict[str, Session],
) -> None:
    text = _report(screened["last"].id, "--format", "md")
    part = text.split("## Earlier results for this client", 1)[1].split("\n## ", 1)[0]
    part = part.replace("\\>", ">")  # Markdown escapes ">"
    rows = [line for line in part.splitlines() if line.startswith("| 2026")]
    assert [row.split(" | ")[0] for row in rows] == [
        "| 2026-10-01",
        "| 2026-10-02",
        "| 2026-11-01",
        "| 2026-12-01 (this session)",
    ]
    assert "C-0099" not in text and "2026-11-15" not in part  # another client's session
    first, sds, second, last = rows
    assert "first of this instrument" in first and "first of this instrument" in sds
    assert "SDS total 10" in sds
    assert "Warning signs 6 -> 5, fewer" in second
    assert "result: Many warning signs -> Several warning signs" in second
    assert "Warning signs 5 -> 4, fewer" in last
    assert "most urgent alert: none -> See a doctor" in last


def test_the_first_session_says_there_is_nothing_earlier(screened: dict[str, Session]) -> None:
    text = _report(screened["first"].id)
    part = text.split("EARLIER RESULTS FOR THIS CLIENT", 1)[1]
    assert "No earlier completed session for client C-0042" in part.split("\n\n")[1]


def test_json_carries_the_series_oldest_first(screened: dict[str, Session]) -> None:
    data = json.loads(_report(screened["last"].id, "--format", "json"))
    series = data["history"]
    assert [(p["questionnaire"]["id"], p["scores"].get("criteria_count")) for p in series] == [
        ("ketamine", 6),
        ("sds", None),
        ("ketamine", 5),
        ("ketamine", 4),
    ]
    assert series[1]["scores"] == {"sds_total": 10}
    assert [p["current"] for p in series] == [False, False, False, True]
    assert series[-1]["top_flag_level"] == "see_doctor"
    assert series[-1]["session"] == screened["last"].id
    assert data["next_steps"]["text"] == NEXT_STEPS


def test_html_draws_the_series_as_an_inline_chart(screened: dict[str, Session]) -> None:
    page = _report(screened["last"].id, "--format", "html")
    [svg] = re.findall(r"<svg .*?</svg>", page, re.S)
    assert 'role="img"' in svg and "<title" in svg
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no asset
    ketamine_line = re.search(r'<polyline points="([^"]+)"', svg)
    assert ketamine_line is not None
    heights = [float(pair.split(",")[1]) for pair in ketamine_line.group(1).split()]
    assert len(heights) == 3 and heights[0] < heights[1] < heights[2]  # 6, 5, 4: going down
    assert "Warning signs (ketamine)" in svg and "SDS total (sds)" in svg


def test_the_handout_is_the_clients_page_without_counselor_text(
    screened: dict[str, Session],
) -> None:
    last = screened["last"]
    for fmt in ("text", "md", "html"):
        sheet = _report(last.id, "--handout", "--format", fmt)
        assert "take-home sheet" in sheet.lower()
        assert NEXT_STEPS in sheet
        assert "Several warning signs" in sheet
        assert "not a diagnosis" in sheet
        assert "Samaritans" in sheet  # the region's helplines (the intake was UK)
        assert "Bladder pain or pain when peeing" in sheet  # the alert, in words
        for private in (NOTE, last.id, CLIENT, "criteria_count", "see_doctor", "(moderate)"):
            assert private not in sheet, (fmt, private)
        assert "Earlier results" not in sheet and "Confidential" not in sheet


def test_a_crisis_is_on_the_handout_as_help_not_as_a_topic() -> None:
    store = SessionStore()
    session = _session(store, load_questionnaire(), _signs(2, self_harm="past_month"), "12-02")
    session.add_safety_note("self_harm", "past_month", "crisis", SAFETY_NOTE)
    store.save(session)
    sheet = _report(session.id, "--handout")
    top = sheet.split("WHAT YOU TOLD US")[0]
    assert "Please talk to someone today" in top  # the level's own advice, first
    assert "Crisis support: Samaritans" in top
    assert "self-harm" not in sheet.lower() and "suicide" not in sheet.lower()
    assert SAFETY_NOTE not in sheet


def test_the_handout_without_next_steps_says_what_to_do(screened: dict[str, Session]) -> None:
    sheet = _report(screened["first"].id, "--handout")
    assert "None were written down today" in sheet


def test_the_handout_is_not_json_or_fhir(screened: dict[str, Session]) -> None:
    for fmt in ("json", "fhir"):
        result = runner.invoke(app, ["report", screened["last"].id, "--handout", "-f", fmt])
        assert result.exit_code == ExitCode.USAGE
        assert "the take-home sheet (--handout) is text, md or html" in result.stderr


def test_the_handout_prints_on_one_page_in_a_browser(
    screened: dict[str, Session], tmp_path: Path
) -> None:
    chromium, pdfinfo = shutil.which("chromium"), shutil.which("pdfinfo")
    if chromium is None or pdfinfo is None:
        message = "chromium or pdfinfo not installed: run scripts/install-browser"
        unavailable(message)
    page = tmp_path / "handout.html"
    runner.invoke(app, ["report", screened["last"].id, "--handout", "-o", str(page)])
    pdf = tmp_path / "handout.pdf"
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=True)
    assert re.search(r"^Pages:\s+1$", info.stdout, re.M), info.stdout


def test_next_steps_are_saved_and_read_back_and_checked(tmp_path: Path) -> None:
    store = SessionStore()
    session = _session(store, load_questionnaire(), _signs(3), "12-03")
    doc = json.loads(store.path(session.id).read_text(encoding="utf-8"))
    assert "next_steps" not in doc  # absent until written: older files stay as they were
    session.set_next_steps("  See the GP\n\n on Friday ", at="2026-12-03T11:00:00Z")
    store.save(session)
    again = SessionStore().load(session.id)
    assert again.next_steps is not None
    assert (again.next_steps.at, again.next_steps.text) == (
        "2026-12-03T11:00:00Z",
        "See the GP\non Friday",
    )
    with pytest.raises(SessionError, match="the next steps is empty"):
        session.set_next_steps("   ")
    doc = json.loads(store.path(session.id).read_text(encoding="utf-8"))
    for bad, message in (
        ("nope", "next_steps: wrong type"),
        ({"at": "yesterday", "text": "x"}, "next_steps"),
        ({"at": "2026-12-03T11:00:00Z", "text": ""}, "next_steps.text: empty"),
    ):
        broken = {**doc, "next_steps": bad}
        with pytest.raises(Exception, match=re.escape(message)):
            parse_document(json.dumps(broken))
