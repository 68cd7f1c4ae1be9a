"""Issue #12: the screens, tried as a new user would. One section per point of the issue.

Each test asserts what a person at the screen notices. Rendering is deterministic: a
StringIO console at a fixed size; "paged" terminals stand for a real terminal of that
many lines (the real-terminal checks are in tests/test_run_pty.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from ketscreen.cli import app
from ketscreen.core.advice import advice, symptom_like
from ketscreen.core.interview import Interview
from ketscreen.core.model import Questionnaire
from ketscreen.core.pseudonym import personal_looking
from ketscreen.errors import ExitCode
from ketscreen.io.questionnaires import load_questionnaire
from ketscreen.io.resources import choose_region, load_resources
from ketscreen.io.session_store import SessionStore
from ketscreen.ui.console import THEME, make_console
from ketscreen.ui.intake import IntakeFlow
from ketscreen.ui.result_view import result_parts
from ketscreen.ui.screener import run_screener, show_result
from ketscreen.ui.terminal import Terminal
from tests.conftest import full_answers, full_answers_100
from tests.interview_helpers import SCORED_AT, keys_for, output, run

UK = load_resources()["UK"]


@pytest.fixture
def questionnaire(questionnaire_100: Questionnaire) -> Questionnaire:
    """The screen mechanics here (answer order, kept answers, paging, page counts) were
    measured on 1.0.0, which still ships for saved sessions. What 1.1.0, the version a
    new check uses, changes on these screens is checked with `newest` below."""
    return questionnaire_100


@pytest.fixture
def newest() -> Questionnaire:
    return load_questionnaire()


US = load_resources()["US"]
INTL = load_resources()["INTL"]
CLEAR = "\x1b[2J\x1b[H"
runner = CliRunner()


def heavy(questionnaire: Questionnaire) -> dict[str, object]:
    """The worked example "severe with urgent flags", with thoughts of self-harm now."""
    example = next(e for e in questionnaire.examples if e.name == "severe with urgent flags")
    return {**example.answers, "self_harm": "now"}


def paged_terminal(
    lines: Iterable[str], *, width: int = 80, height: int = 24, plain: bool = False
) -> Terminal:
    """A terminal `width` x `height` that pages (as a real one does), drawn without colour."""
    stream = StringIO("".join(f"{line}\n" for line in lines))
    if plain:
        console = make_console(StringIO(), width=width, plain=True)
        return Terminal(console, stream, plain=True, paged=True, height=height)
    console = Console(
        file=StringIO(),
        width=width,
        height=height,
        force_terminal=True,
        color_system=None,
        theme=THEME,
        highlight=False,
    )
    return Terminal(console, stream, plain=False, height=height)


def screens(term: Terminal) -> list[str]:
    """What was on the screen each time it was cleared (rich), as lines."""
    return output(term).split(CLEAR) if not term.plain else [output(term)]


# -- 1. one answer order ------------------------------------------------------------------


def test_no_is_choice_1_on_every_symptom_question(questionnaire: Questionnaire) -> None:
    covered = symptom_like(questionnaire)
    assert "abdominal_pain" in covered and "self_harm" in covered and "craving" in covered
    assert "use_12m" not in covered  # a context question, not a symptom
    for item_id in covered:
        assert questionnaire.items[item_id].codes[0] == "no", item_id
    assert questionnaire.items["freq_3m"].codes[0] == "never"
    assert advice(questionnaire) == [a for a in advice(questionnaire) if "choice" not in a.message]


def test_typing_1_out_of_habit_records_no_everywhere(questionnaire: Questionnaire) -> None:
    """The heavy-use run of the issue: 1 on a yes/no and on a severity question is No."""
    typed = ["", "1", "5", "1", "1"]  # yes, daily, snorted; then 1 on the first sign
    screen = run(questionnaire, [*typed, "q"])
    assert "1. No\n2. Yes\n" in screen.out
    interview = Interview(
        questionnaire, {"use_12m": "yes", "freq_3m": "daily", "routes": ["snort"]}
    )
    interview.answer("no")
    assert Interview(questionnaire).questionnaire.items["abdominal_pain"].choices[0].label == "No"


def test_the_released_questionnaire_keeps_its_hash(questionnaire: Questionnaire) -> None:
    """The default order changed in the engine, not in the released 1.0.0 file."""
    assert questionnaire.version == "1.0.0"
    assert questionnaire.sha256.startswith("6165d3f70c09")


def test_validate_warns_when_no_is_not_first(tmp_path: Path, questionnaire: Questionnaire) -> None:
    source = Path(__file__).resolve().parent.parent / "questions" / "ketamine-1.0.0.yaml"
    text = source.read_text(encoding="utf-8")
    no_first = (
        '          - {code: "no", label: "No"}\n'
        '          - {code: mild, label: "Yes, mild or now and then"}\n'
        '          - {code: severe, label: "Yes, severe"}\n'
    )
    assert no_first in text
    moved = text.replace(
        no_first,
        '          - {code: mild, label: "Yes, mild or now and then"}\n'
        '          - {code: severe, label: "Yes, severe"}\n'
        '          - {code: "no", label: "No"}\n',
        1,
    )
    path = tmp_path / "moved.yaml"
    path.write_text(moved, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == ExitCode.OK  # a warning, not an error
    warning = next(line for line in result.stderr.splitlines() if "abdominal_pain" in line)
    assert re.match(
        rf"Warning: {re.escape(str(path))}:\d+:\d+: item abdominal_pain lists 'no' as choice 3",
        warning,
    )
    assert "OK" in result.stdout


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("y", "yes"),
        ("n", "no"),
        ("Y", "yes"),
        ("yes", "yes"),
        ("No", "no"),
        ("1", "no"),
        ("2", "yes"),
    ],
)
def test_y_n_and_yes_no_answer_a_yes_no_question(
    questionnaire: Questionnaire, typed: str, expected: str
) -> None:
    from ketscreen.ui.interview_screen import run_interview
    from tests.interview_helpers import terminal

    interview = Interview(
        questionnaire, {"use_12m": "yes", "freq_3m": "daily", "routes": ["snort"]}
    )
    assert run_interview(terminal([typed, "q"]), interview, UK) is False
    assert interview.answer_of("more_than_intended") == expected


def test_n_answers_no_in_intake_too_and_a_adds_the_note(isolated_env: Path) -> None:
    """In intake, n used to add a note: now y and n answer, everywhere (#12)."""
    done = intake(
        "--client", "C-5", "--region", "UK",
        lines=["", "1", "4", "1", "n", "a", "unsure", "y", "q"],
    )  # fmt: skip
    assert done.exit_code == 0
    doc = json.loads(next((isolated_env / "sessions").glob("*.json")).read_text())
    assert doc["answers"]["more_than_intended"] == "no"
    assert doc["answers"]["cut_down_failed"] == "yes"
    assert [n["text"] for n in doc["item_notes"]["cut_down_failed"]] == ["unsure"]


def test_words_work_wherever_their_key_does(questionnaire: Questionnaire) -> None:
    typed = ["", "1", "help", "back", "", "skip", "back", "3", "quit"]
    screen = run(questionnaire, typed)
    out = screen.out
    assert "Your answer: help\nHelp\n" in out
    assert "Your answer: back\n\nYour use of ketamine. Question 1 of 30." in out
    assert "Your answer: skip\n\nYour use of ketamine. Question 3 of 30." in out  # declined
    assert out.rstrip().endswith(
        "Need to talk to someone now? Samaritans: Call 116 123 (24/7, free)"
    )
    assert "You stopped the check. Nothing was saved." in out
    review = run(questionnaire, ["", "3", "1", "help", "quit"])
    assert "Your choice: help\nHelp\n" in review.out and review.result is None


# -- 2. a change that removes answers asks first, and can be undone -----------------------


def test_changing_answer_1_asks_before_dropping_and_changing_back_restores(
    questionnaire: Questionnaire,
) -> None:
    answers = full_answers_100(craving="yes", tolerance="yes", readiness="ready")
    every = keys_for(questionnaire, answers)
    # review: 1 (change use_12m), 3 (No), Enter (keep Yes), Enter (keep it, to the review);
    # 1, 3, y (drop them); 1, 1 (Yes again: they come back)
    typed = ["", *every, "1", "3", "", "", "1", "3", "y", "1", "1", "", ""]
    screen = run(questionnaire, typed)
    out = " ".join(screen.out.split())
    assert (
        'With "No" as the answer, 28 questions you have answered no longer apply, and their '
        "answers will be set aside. If you change this answer back before the end, they come "
        'back. Type y to change it, or press Enter to keep "Yes":'
    ) in out
    assert "28 earlier answers are back, as you gave them." in out
    assert screen.result is not None
    assert dict(screen.result.answers) == {
        k: tuple(v) if isinstance(v, list) else v for k, v in answers.items()
    }
    assert screen.result.criteria_count == 2


def test_a_change_that_drops_one_answer_does_not_ask(questionnaire: Questionnaire) -> None:
    interview = Interview(questionnaire, {"use_12m": "yes", "freq_3m": "daily"})
    assert interview.would_drop("use_12m", "no") == ["freq_3m"]
    screen = run(questionnaire, ["", "1", "4", "b", "b", "3", "1", "", ""])
    assert "Type y to change it" not in screen.out
    assert screen.result is not None and screen.result.band == "no_recent_use"


def test_kept_answers_come_back_through_several_levels(questionnaire: Questionnaire) -> None:
    interview = Interview(questionnaire, full_answers_100(routes=["inject"]))
    interview.cursor = len(interview.questions())
    assert len(interview.change("use_12m", "no")) == 28
    assert interview.change("use_12m", "yes") == []
    assert interview.restored[0] == "freq_3m" and len(interview.restored) == 28
    assert (
        interview.answers == Interview(questionnaire, full_answers_100(routes=["inject"])).answers
    )


# -- 3. the review screen pages ------------------------------------------------------------


def test_the_review_fits_an_80x24_terminal_a_page_at_a_time(questionnaire: Questionnaire) -> None:
    every = keys_for(questionnaire, heavy(questionnaire))
    term = paged_terminal(["", *every, "", "b", "", "q"])
    run_screener(term, questionnaire, UK, choose_region("UK", {}), clock=lambda: SCORED_AT)
    reviews = [s.split("Your choice:")[0] for s in screens(term) if "Check your answers" in s]
    assert len(reviews) == 4  # page 1, page 2, back to 1 (b), page 2 again
    for page in reviews:
        assert len(page.splitlines()) <= 23  # and the prompt on the 24th line
    first, second = reviews[:2]
    assert "Check your answers (page 1 of 2)" in first and " 1. Ketamine use" in first
    assert "Check your answers (page 2 of 2)" in second
    assert "30. How you feel about changing your use" in second
    shown = {int(n) for page in reviews[:2] for n in re.findall(r"^\s*(\d+)\. ", page, re.M)}
    assert shown == set(range(1, 31))  # every answer can be seen
    assert "Enter: more." in first and "Enter: the result." in second
    assert reviews[2] == first  # b: the page before, as it was


def test_a_number_from_another_page_changes_that_answer(questionnaire: Questionnaire) -> None:
    every = keys_for(questionnaire, full_answers())
    term = paged_terminal(["", *every, "28", "2", "", "", "", "q"])
    run_screener(term, questionnaire, UK, choose_region("UK", {}), clock=lambda: SCORED_AT)
    out = output(term)
    assert "Change your answer" in out
    back = [s for s in screens(term) if "Check your answers" in s][1]
    assert "28. Passed out, trouble breathing, or emergency care: Yes" in back


# -- 4. the long result: pages hold together -----------------------------------------------


def _result_pages(
    questionnaire: Questionnaire, width: int, height: int, typed: list[str], plain: bool = False
) -> tuple[Terminal, list[str]]:
    result = Interview(questionnaire, heavy(questionnaire)).result(scored_at=SCORED_AT)
    term = paged_terminal(typed, width=width, height=height, plain=plain)
    show_result(term, result_parts(questionnaire, result, UK, plain=plain, with_footer=False), UK)
    return term, screens(term)


@pytest.mark.parametrize("width", [80, 120])
def test_the_first_page_holds_the_alerts_and_the_band(
    questionnaire: Questionnaire, newest: Questionnaire, width: int
) -> None:
    for version in (questionnaire, newest):  # 1.0.0 for saved sessions, 1.1.0 for new
        _, pages = _result_pages(version, width, 24, [""] * 12)
        first = pages[0]
        for words in ("Support is available now", "Get medical advice today", "Your result"):
            assert words in first
        flat = " ".join(first.split())
        assert "8 of 10 warning signs." in flat  # the band, whole
        assert "Where to go: NHS 111" in flat and "call 999 if it is an emergency" in flat
        assert first.rstrip().endswith("press Enter for more:")
        for page in pages:
            assert len(page.splitlines()) <= 24
            assert "Need to talk to someone now?" in page


def test_at_60x24_the_heaviest_first_page_keeps_the_crisis_panel_whole(
    newest: Questionnaire,
) -> None:
    """A known limit: at 60x24 the heaviest UK result (crisis, three urgent alerts and
    the four nations' routes) is taller than a page. The crisis panel and the urgent
    alerts come first and whole; the band opens the next page."""
    _, pages = _result_pages(newest, 60, 24, [""] * 12)
    first, second = (" ".join(page.split()) for page in pages[:2])
    assert "Support is available now" in first and "Get medical advice today" in first
    assert "while you feel like this." in first  # the crisis panel's last line
    assert "8 of 10 warning signs." in second
    assert all(len(page.splitlines()) <= 24 for page in pages)


@pytest.mark.parametrize("width", [60, 80])
def test_pages_break_between_blocks_and_tables_keep_their_rows(
    questionnaire: Questionnaire, width: int
) -> None:
    _, pages = _result_pages(questionnaire, width, 24, [""] * 12)
    assert len(pages) <= (6 if width == 80 else 8)  # UK: nations' routes, Childline (#10)
    for page in pages:
        body = page.split("Need to talk to someone now?")[0].strip().splitlines()
        assert len(body) >= 3  # no page with a lone line
        if any(line.startswith("Service ") for line in body):  # the table's header...
            header = next(i for i, line in enumerate(body) if line.startswith("Service "))
            assert len(body) > header + 2  # ...with rows under it on the same page
    joined = "\n".join(pages)
    # a service (name, kind, contact, hours) is never cut between pages
    for page in pages:
        lines = page.splitlines()
        if lines and lines[0].startswith("("):
            pytest.fail(f"a service row was cut across pages: {lines[0]!r}")
    assert joined.count("Services and helplines: United Kingdom") >= 1


def test_a_block_taller_than_a_page_repeats_its_title(questionnaire: Questionnaire) -> None:
    _, pages = _result_pages(questionnaire, 60, 14, [""] * 30)
    continued = [p for p in pages if "(continued)" in p]
    assert continued, "a block taller than 14 lines should break with its title repeated"
    for page in continued:
        title = next(line for line in page.splitlines() if "(continued)" in line)
        name = title.replace(" (continued)", "")
        earlier = "\n".join(pages[: pages.index(page)])
        assert name in earlier  # the same block began on an earlier page


def test_a_table_that_breaks_repeats_its_header(questionnaire: Questionnaire) -> None:
    _, pages = _result_pages(questionnaire, 60, 12, [""] * 40)
    with_table = [p for p in pages if "Services and helplines: United Kingdom" in p]
    assert len(with_table) >= 2  # the table breaks across pages at 60x12
    for page in with_table:
        lines = page.splitlines()
        title = next(i for i, line in enumerate(lines) if "Services and helplines" in line)
        assert lines[title + 1].startswith("Service ")  # the header under the title
        assert not lines[title + 3].startswith("Need to talk")  # and a service under it


def test_b_goes_back_a_page(questionnaire: Questionnaire) -> None:
    term, pages = _result_pages(questionnaire, 80, 24, ["", "b", "", "", "", "", ""])
    total = re.search(r"Page 1 of (\d+)", pages[0]).group(1)  # type: ignore[union-attr]
    one, two = f"Page 1 of {total}", f"Page 2 of {total}"
    assert pages[2].split(one)[0] == pages[0].split(one)[0]  # page 1 again
    assert pages[3].split(two)[0] == pages[1].split(two)[0]
    assert f"{two}: press Enter for more, b to go back a page: b" in output(term)


def test_q_skips_to_the_last_page(questionnaire: Questionnaire) -> None:
    term, pages = _result_pages(questionnaire, 80, 24, ["x", "q"])
    assert len(pages) == 2 and "scored 2026-11-21T12:00:00Z." in pages[-1]
    assert "Press Enter for page 2 or q to skip to the end." in output(term)


def test_b_after_the_last_page_shows_the_pages_again(questionnaire: Questionnaire) -> None:
    total = len(_result_pages(questionnaire, 80, 24, [""] * 12)[1])
    every = keys_for(questionnaire, heavy(questionnaire))
    typed = ["", *every, "", "", *[""] * (total - 1), "b", "", ""]
    term = paged_terminal(typed)
    run_screener(term, questionnaire, UK, choose_region("UK", {}), clock=lambda: SCORED_AT)
    out = output(term)
    assert "Save a copy (t or h), b back, or Enter to finish: b" in out
    # b: the last but one again
    assert out.count(f"Page {total - 1} of {total}: press Enter for more") == 2


# -- 5. plain mode pauses in a terminal, never in a pipe --------------------------------


def test_plain_mode_in_a_terminal_pauses_where_the_styled_mode_pages(
    questionnaire: Questionnaire,
) -> None:
    term, _ = _result_pages(questionnaire, 80, 24, [""] * 12, plain=True)
    out = output(term)
    assert CLEAR not in out and not re.search("[╭│━]", out)  # still plain lines
    prompts = re.findall(r"Page (\d) of (\d): press Enter for more", out)
    assert prompts and prompts[0] == ("1", prompts[0][1])
    first = out.split("Page 1 of")[0]
    assert "Support is available now" in first and "8 of 10 warning signs." in first


def test_plain_mode_through_a_pipe_never_pauses(questionnaire: Questionnaire) -> None:
    screen = run(questionnaire, ["", *keys_for(questionnaire, heavy(questionnaire)), "", ""])
    assert "press Enter for more" not in screen.out
    result = runner.invoke(app, ["run", "--region", "UK"], input="\n3\n1\n\n\n")
    assert result.exit_code == 0 and "press Enter for more" not in result.stdout


# -- 6. words --------------------------------------------------------------------------------


def test_the_welcome_says_each_thing_once(questionnaire: Questionnaire) -> None:
    welcome = run(questionnaire, ["q"]).out
    flat = " ".join(welcome.split())
    assert flat.count("not a diagnosis") == 1
    assert len(re.findall(r"\bminutes\b", flat)) == 1
    assert "about five minutes" not in flat


def test_a_section_intro_and_its_question_do_not_repeat_the_time_frame(
    questionnaire: Questionnaire,
) -> None:
    out = run(questionnaire, ["", "1", "3", "1", "1", "q"]).out
    first_sign = out.split("Warning signs. Question 4 of 30.")[1].split("Your answer")[0]
    assert first_sign.count("past 12 months") == 1
    second_sign = out.split("Warning signs. Question 5 of 30.")[1].split("Your answer")[0]
    assert "About the past 12 months." in second_sign  # no intro there: the reminder stays
    question_1 = out.split("Question 1 of up to 30.")[1].split("Your answer")[0]
    assert question_1.count("past 12 months") == 1


def test_help_tells_what_is_not_on_the_screen(questionnaire: Questionnaire) -> None:
    out = run(questionnaire, ["", "?", "q"]).out
    help_text = out.split("Your answer: ?\n")[1].split("Your answer: q")[0]
    assert "Not prescribed" not in help_text  # the question's help is on the screen already
    assert "quit: stop now" not in out and "q: stop the check now; nothing is saved" in help_text


def test_international_help_reads_well(questionnaire: Questionnaire) -> None:
    out = run(questionnaire, ["", "3", "1", "", ""], region="INTL").out
    assert "Help in International" not in out
    assert "Services and helplines: International" in out


def test_services_and_their_kind_do_not_run_together_without_colour() -> None:
    result = runner.invoke(app, ["resources", "--region", "UK"], env={"COLUMNS": "80"})
    lines = result.stdout.splitlines()
    name = next(i for i, line in enumerate(lines) if line.startswith("Emergency services"))
    assert lines[name + 1].startswith("(emergency)")
    assert not any(line.strip() == "Emergency" for line in lines)


def test_one_record_is_one_record(tmp_path: Path) -> None:
    data = tmp_path / "one.csv"
    data.write_text("use_12m,self_harm\nno,no\n", encoding="utf-8")
    result = runner.invoke(app, ["score", str(data)])
    assert "Scored 1 record in" in result.stderr


def test_validate_warns_about_words_of_one_country(questionnaire: Questionnaire) -> None:
    """1.0.0 is released and keeps "A GP (family doctor)"; authors are told (#12)."""
    found = [a for a in advice(questionnaire) if "'GP'" in a.message]
    assert [a.where for a in found] == [("guidance", "bands", "mild")]
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0
    assert re.search(
        r"ketamine-1\.0\.0\.yaml:\d+:\d+: guidance\.bands\.mild says 'GP'", result.stderr
    )
    assert "ketamine-1.1.0.yaml" not in result.stderr  # 1.1.0 says "a doctor"


# -- 8 and 9. counselors ------------------------------------------------------------------


def intake(*args: str, lines: list[str], env: dict[str, str] | None = None) -> Any:
    return runner.invoke(
        app,
        ["intake", *args],
        input="".join(f"{x}\n" for x in lines),
        env={"COLUMNS": "80", **(env or {})},
    )


def test_resume_shows_the_region_the_session_recorded(isolated_env: Path) -> None:
    started = intake(
        "--client", "C-7", "--counselor", "Sam", "--region", "US", lines=["", "1", "q"]
    )
    assert started.exit_code == 0
    sid = json.loads(next((isolated_env / "sessions").glob("*.json")).read_text())["id"]
    resumed = intake("--resume", sid, lines=["q"], env={"KETSCREEN_REGION": "UK"})
    flat = " ".join(resumed.stdout.split())
    assert "Help shown for: United States (recorded with this session)" in flat
    assert "988 Suicide & Crisis Lifeline" in flat and "Samaritans" not in flat
    chosen = intake("--resume", sid, "--region", "IE", lines=["q"])
    assert "Help shown for: Ireland (chosen with --region)" in " ".join(chosen.stdout.split())


def test_intake_screens_speak_to_the_counselor(isolated_env: Path) -> None:
    first = intake(
        "--client", "C-8", "--counselor", "Sam", "--region", "UK",
        lines=["", "3", "a", "hesitant", "3", "", "q"],
    )  # fmt: skip
    flat = " ".join(first.stdout.split())
    assert "Tell the client: this is a screening tool, not a diagnosis" in flat
    assert "For the client: read this to them, or show them the screen." in flat
    assert flat.index("For the client: read this") < flat.index("Support is available now")
    sid = json.loads(next((isolated_env / "sessions").glob("*.json")).read_text())["id"]
    resumed = " ".join(intake("--resume", sid, lines=["", "", "q"]).stdout.split())
    assert "remind the client: Before you start" not in resumed
    assert (
        "If this is a new meeting, explain the limits of confidentiality to the client" in resumed
    )
    assert "Client: C-8. Counselor: Sam." in resumed
    assert "Thoughts of being better off dead or of self-harm: Yes, and I am having" in resumed
    assert "[note]" in resumed  # the note is marked on the review screen


def test_the_intake_result_says_who_the_crisis_panel_is_for(isolated_env: Path) -> None:
    done = intake("--client", "C-6", "--region", "UK", lines=["", "3", "3", "", "", "", ""])
    assert done.exit_code == 0
    result_screen = done.stdout[done.stdout.index("General note (Enter alone to finish):") :]
    label = result_screen.index("For the client: read this to them, or show them the screen.")
    assert label < result_screen.index("Support is available now")


# -- 10. a client id that looks like a name -----------------------------------------------


@pytest.mark.parametrize(
    ("client", "looks"),
    [
        ("Jane Smith", "a personal name"),
        ("Mary-Jane O'Neil", "a personal name"),
        ("jane@example.org", "an email address"),
        ("07700 900123", "a phone number"),
        ("+1 (555) 123-4567", "a phone number"),
    ],
)
def test_a_personal_looking_client_id_is_questioned(
    isolated_env: Path, client: str, looks: str
) -> None:
    assert (personal_looking(client) or "").startswith(looks)
    stopped = intake("--client", client, "--region", "UK", lines=[""])
    assert stopped.exit_code == 0
    assert f'The client id "{client}" looks like {looks}' in " ".join(stopped.stdout.split())
    assert not (isolated_env / "sessions").exists() or not list(
        (isolated_env / "sessions").iterdir()
    )
    kept = intake("--client", client, "--region", "UK", lines=["y", "", "q"])
    assert kept.exit_code == 0
    assert len(list((isolated_env / "sessions").glob("*.json"))) == 1


@pytest.mark.parametrize("client", ["C-0042", "case 17", "20261121-a", "JS-2"])
def test_a_pseudonym_is_not_questioned(client: str) -> None:
    assert personal_looking(client) is None


# -- 12. saving -----------------------------------------------------------------------------


def test_report_refuses_a_file_name_whose_format_it_cannot_tell(
    isolated_env: Path, tmp_path: Path
) -> None:
    intake("--client", "C-9", "--region", "UK", lines=["", "3", "1", "", "", ""])
    sid = json.loads(next((isolated_env / "sessions").glob("*.json")).read_text())["id"]
    target = tmp_path / "y.docx"
    refused = runner.invoke(app, ["report", sid, "-o", str(target)])
    assert refused.exit_code == ExitCode.USAGE
    assert refused.stderr.startswith("Error: cannot tell the report format from the name 'y.docx'")
    assert not target.exists()
    chosen = runner.invoke(app, ["report", sid, "-o", str(target), "--format", "text"])
    assert chosen.exit_code == 0 and target.read_text(encoding="utf-8").strip()


# -- 13. help that reads like a man page, one error style ---------------------------------


def _help(*command: str) -> str:
    env = {**os.environ, "COLUMNS": "80", "LINES": "40", "TERM": "xterm-256color"}
    done = subprocess.run(
        [sys.executable, "-m", "ketscreen", *command, "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


COMMANDS = [
    (),
    ("run",),
    ("intake",),
    ("sessions",),
    ("report",),
    ("score",),
    ("template",),
    ("validate",),
    ("show",),
    ("resources",),
    ("export",),
    ("export", "fhir"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "ketscreen")
def test_help_reads_like_a_man_page_at_80_columns(command: tuple[str, ...]) -> None:
    text = _help(*command)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert not re.search(r"<[a-z][a-z_\[\]|, ]*>", text), "a type name leaks into the help"
    assert "int range" not in text and "x>=" not in text and "{" not in text
    assert not re.search("[╭╮╰╯│─]", text)  # no panels
    for index, line in enumerate(lines[:-1]):
        words = line.split()
        following = lines[index + 1]
        # an orphan: one word alone on a line, while the paragraph goes on below it
        continues = following.strip() and len(following) - len(following.lstrip()) == len(
            line
        ) - len(line.lstrip())
        if len(words) == 1 and continues and not line.rstrip().endswith(":"):
            pytest.fail(f"orphan word {line.strip()!r} in help of {' '.join(command)}")
    assert not any(
        line.rstrip().endswith("...") and "  " in line.strip()
        for line in lines
        if "INPUT" not in line
    )


def test_report_help_names_the_right_default_region() -> None:
    flat = " ".join(_help("report").split())
    assert "Default: the region the intake used" in flat


def test_usage_errors_and_our_errors_look_the_same() -> None:
    def stderr(*args: str) -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "-m", "ketscreen", *args],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "80"},
            timeout=120,
            check=False,
        )
        return done.returncode, done.stderr

    ours = stderr("score", "--jobs", "-1", "x.csv")
    click_option = stderr("score", "--format", "xml", "x.csv")
    click_unknown = stderr("--no-such-option")
    click_missing = stderr("report")
    for code, text in (ours, click_option, click_unknown, click_missing):
        assert code == ExitCode.USAGE
        assert len(text.splitlines()) == 1 and text.startswith("Error: ")
        assert not re.search("[╭│╰]", text) and "Value error" not in text
    assert "--format" in click_option[1] and click_option[1].rstrip().endswith(
        "see ketscreen score --help"
    )
    assert click_missing[1].rstrip().endswith("see ketscreen report --help")


# -- 14. batch errors in plain words -------------------------------------------------------


def test_template_says_where_the_codes_are() -> None:
    result = runner.invoke(app, ["template"])
    assert result.stdout.startswith("respondent_id,use_12m,")
    assert "ketscreen template --format yaml" in result.stderr
    assert (
        "ketscreen template --format yaml"
        not in runner.invoke(app, ["template", "--format", "yaml"]).stderr
    )


def test_batch_errors_name_the_answers_and_suggest_a_code(tmp_path: Path) -> None:
    data = tmp_path / "r.csv"
    data.write_text(
        "respondent_id,use_12m,freq_3m,self_harm\nr1,no,weekly,no\nr2,yes,wekly,no\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["score", str(data)])
    assert result.exit_code == ExitCode.INVALID_RECORDS
    assert (
        "respondent 'r1', column freq_3m: answered freq_3m, but use_12m is no, so freq_3m is "
        "not asked: leave it empty"
    ) in result.stderr
    assert "'wekly' is not an allowed answer (did you mean 'weekly'?)" in result.stderr


# -- 15. Ctrl-C in intake --------------------------------------------------------------------


class _CtrlCAfter(StringIO):
    def readline(self, size: int | None = -1) -> str:
        line = super().readline()
        if not line:
            raise KeyboardInterrupt
        return line


def test_ctrl_c_in_intake_starts_the_rule_on_its_own_line(questionnaire: Questionnaire) -> None:
    console = make_console(StringIO(), width=80)
    term = Terminal(console, _CtrlCAfter("\n1\n"), plain=False)
    flow = IntakeFlow(term, SessionStore(), questionnaire, UK, choose_region("UK", {}))
    with pytest.raises(KeyboardInterrupt):
        flow.start("C-1", None)
    flow.save_interrupted()
    out = output(term)
    prompt_line = next(line for line in out.splitlines()[::-1] if "Client's answer:" in line)
    assert prompt_line.strip() == "Client's answer:"
    after = out[out.rindex("Client's answer:") :].splitlines()
    assert after[1].startswith("─")  # the footer's rule, on a line of its own


# -- 2, as a property: any change, undone, gives back every answer -------------------------


def _property_cases() -> Any:
    from hypothesis import given
    from hypothesis import strategies as st

    from ketscreen import load_questionnaire
    from ketscreen.core.model import ItemType
    from tests.strategies import valid_answers

    q = load_questionnaire()

    @given(valid_answers(q), st.data())
    def check(answers: dict[str, Any], data: st.DataObject) -> None:
        interview = Interview(q, answers)
        before = dict(interview.answers)
        asked = [i for i in interview.questions() if q.items[i].type is not ItemType.MULTI]
        if not asked:
            return
        item_id = data.draw(st.sampled_from(asked))
        old = interview.answer_of(item_id)
        new = data.draw(st.sampled_from(q.items[item_id].codes))
        predicted = interview.would_drop(item_id, new)
        assert interview.answers == before  # asking changes nothing
        assert interview.change(item_id, new) == predicted
        if old is None:
            return
        interview.change(item_id, old)
        assert interview.answers == before

    return check


test_a_change_undone_restores_every_answer = _property_cases()
