"""The result screen: order of safety information, counts, guidance, copies, paging."""

from __future__ import annotations

import os
import re
import stat
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from ketscreen.core.interview import Interview
from ketscreen.core.model import Questionnaire
from ketscreen.core.scoring import Result
from ketscreen.core.texts import DISCLAIMER
from ketscreen.io.resources import load_resources
from ketscreen.ui.console import THEME
from ketscreen.ui.result_view import (
    count_line,
    next_steps,
    render_result,
    result_html,
    result_text,
)
from ketscreen.ui.screener import show_result
from ketscreen.ui.terminal import Terminal
from tests.conftest import full_answers_100 as full_answers
from tests.interview_helpers import SCORED_AT, keys_for, run, tidy


@pytest.fixture
def questionnaire(questionnaire_100: Questionnaire) -> Questionnaire:
    """These transcripts and layouts were written for 1.0.0, which still ships and must
    keep working; 1.1.0's own screens are covered in tests/test_content_1_1.py."""
    return questionnaire_100


UK = load_resources()["UK"]


def result_of(questionnaire: Questionnaire, **changes: object) -> Result:
    return Interview(questionnaire, full_answers(**changes)).result(scored_at=SCORED_AT)


def severe_crisis(questionnaire: Questionnaire) -> Result:
    example = {e.name: e for e in questionnaire.examples}["severe with urgent flags"]
    answers = {**example.answers, "self_harm": "past_month"}
    return Interview(questionnaire, answers).result(scored_at=SCORED_AT)


def rendered(
    questionnaire: Questionnaire, result: Result, *, width: int = 80, plain: bool = True
) -> str:
    buffer = StringIO()
    console = Console(file=buffer, width=width, color_system=None, theme=THEME, highlight=False)
    render_result(console, questionnaire, result, UK, plain=plain)
    return tidy(buffer.getvalue())


# -- guidance order (CONTENT.md section 5) ---------------------------------------------


def titles(questionnaire: Questionnaire, result: Result) -> list[str]:
    return [title for title, _ in next_steps(questionnaire, result)]


def test_not_now_leads_with_safer_use_steps_and_the_open_door(
    questionnaire: Questionnaire,
) -> None:
    result = result_of(questionnaire, readiness="not_now", freq_3m="weekly")
    assert titles(questionnaire, result) == [
        "Lowering your risk",  # safer-use steps even without a risk flag
        "Where you are now",
        "What we suggest",
        "Frequent use",
        "If someone else is in trouble",
    ]
    assert next_steps(questionnaire, result)[1][1].startswith("That is your choice.")


def test_not_now_with_risk_flags_shows_the_steps_once_with_the_alerts(
    questionnaire: Questionnaire,
) -> None:
    result = result_of(questionnaire, readiness="not_now", use_alone="yes")
    assert titles(questionnaire, result)[0] == "Where you are now"
    text = rendered(questionnaire, result)
    assert text.count("Start low and go slow.") == 1
    risk = text.index("Lower your risk\n")
    assert text.index("What helps: Do not mix ketamine", risk) < text.index("What you can do next")


@pytest.mark.parametrize("readiness", ["thinking", "ready", "already_trying"])
def test_where_you_are_now_always_comes_before_what_we_suggest(
    questionnaire: Questionnaire, readiness: str
) -> None:
    """The two never swap places from one result to another (#12)."""
    result = result_of(questionnaire, readiness=readiness)
    assert titles(questionnaire, result)[:2] == ["Where you are now", "What we suggest"]


@pytest.mark.parametrize("readiness", ["ready", "already_trying"])
def test_ready_gives_concrete_next_steps_first(
    questionnaire: Questionnaire, readiness: str
) -> None:
    result = result_of(questionnaire, readiness=readiness, withdrawal="yes")
    assert titles(questionnaire, result) == [
        "Where you are now",
        "What we suggest",
        "Stopping safely",
        "If someone else is in trouble",
    ]


def test_no_readiness_answer_gives_the_band_advice(questionnaire: Questionnaire) -> None:
    result = result_of(questionnaire, readiness="declined")
    assert titles(questionnaire, result) == ["What we suggest", "If someone else is in trouble"]


# -- counts ------------------------------------------------------------------------------


def test_count_lines(questionnaire: Questionnaire) -> None:
    assert count_line(questionnaire, result_of(questionnaire, craving="yes")) == (
        "1 of 10 warning signs."
    )
    lower = result_of(questionnaire, craving="yes", tolerance="declined")
    assert count_line(questionnaire, lower) == (
        "At least 1 of 10 warning signs. 1 of these questions was not answered, so the "
        "number could be higher."
    )
    no_use = Interview(questionnaire, {"use_12m": "no", "self_harm": "no"}).result()
    assert count_line(questionnaire, no_use) is None


def test_withdrawal_and_secrecy_are_signs_but_not_counted(questionnaire: Questionnaire) -> None:
    result = result_of(questionnaire, withdrawal="yes", secrecy="yes", craving="yes")
    text = rendered(questionnaire, result)
    assert (
        "Warning signs you reported\n"
        "- Strong cravings or urges\n"
        "You also reported (not counted above):\n"
        "- Felt unwell after cutting down or stopping\n"
        "- Hid or lied about use\n"
    ) in text
    assert "1 of 10 warning signs." in text


# -- safety order and regions --------------------------------------------------------------


@pytest.mark.parametrize("region", ["US", "UK", "CA", "AU", "IE", "INTL"])
def test_urgent_flags_give_the_regions_route(questionnaire: Questionnaire, region: str) -> None:
    result = result_of(questionnaire, urine_retention="yes")
    buffer = StringIO()
    console = Console(file=buffer, width=400, color_system=None, theme=THEME)
    chosen = load_resources()[region]
    render_result(console, questionnaire, result, chosen, plain=True)
    text = buffer.getvalue()
    assert f"Where to go: {chosen.urgent_care}\n" in text
    assert text.index("Get medical advice today") < text.index("Your result")
    assert f"Services and helplines: {chosen.name}" in text


@pytest.mark.parametrize("width", [60, 100, 120])
@pytest.mark.parametrize("plain", [False, True])
def test_result_layout_at_each_width(questionnaire: Questionnaire, width: int, plain: bool) -> None:
    text = rendered(questionnaire, severe_crisis(questionnaire), width=width, plain=plain)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines)
    order = [
        text.index("Support is available now"),
        text.index("Get medical advice today"),
        text.index("Your result"),
        text.index("Warning signs you reported"),
        text.index("See a doctor"),
        text.index("Lower your risk"),
        text.index("What you can do next"),
        text.index("Services and helplines: United Kingdom"),
        text.index("This is a screening tool"),
        text.index("Questionnaire ketamine version 1.0.0"),
        text.rindex("Need to talk to someone now?"),
    ]
    assert order == sorted(order)
    # crisis level: talk to someone today first, the emergency number after
    assert text.index("Please talk to someone today") < text.index("call 999.")
    flat = " ".join(text.replace("│", " ").split())
    assert DISCLAIMER in flat
    if plain:
        assert not re.search("[│╭╰━┃]", text)
    else:
        panels = [line for line in lines if line.startswith("╭─")]
        assert [p.split("─ ")[1].split(" ─")[0] for p in panels] == [
            "Support is available now",
            "Get medical advice today",
            "Your result",
        ]
        boxed = [line for line in lines if line.startswith("│")]
        assert all(len(line) == width and line.endswith("│") for line in boxed)


def test_band_is_shown_in_words_and_in_colour(questionnaire: Questionnaire) -> None:
    buffer = StringIO()
    console = Console(file=buffer, width=80, color_system="standard", force_terminal=True)
    console.push_theme(THEME)
    render_result(console, questionnaire, severe_crisis(questionnaire), UK, plain=False)
    # band.severe is bold red: SGR 1 (bold) and 31 (red) just before the words
    assert re.search(r"\x1b\[1;31mMany warning signs", buffer.getvalue())


# -- copies ------------------------------------------------------------------------------


def test_text_copy_is_the_plain_result(questionnaire: Questionnaire) -> None:
    text = result_text(questionnaire, severe_crisis(questionnaire), UK)
    assert text.startswith("Support is available now\n")
    assert all(line == line.rstrip() for line in text.splitlines())
    assert "Need to talk to someone now? Samaritans" in text


def test_html_copy_is_a_self_contained_page(questionnaire: Questionnaire) -> None:
    page = result_html(questionnaire, severe_crisis(questionnaire), UK)
    assert "<title>Ketamine use self-check: your result</title>" in page
    assert '<html lang="en">' in page and "@media print" in page
    assert "<h2>Support is available now</h2>" in page and "<p>Many warning signs</p>" in page
    assert "<pre" not in page and not re.search("[╭╰│━]", page)  # not a dump of boxes
    assert "<script" not in page and "://" not in page.split("<body", 1)[0]
    assert "Content-Security-Policy" in page  # the report's page: nothing is fetched


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_save_a_text_copy_only_when_asked(
    questionnaire: Questionnaire, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    screen = run(questionnaire, ["", "3", "1", "", "t", ""], width=200)
    saved = tmp_path / "ketscreen-result.txt"
    assert screen.result is not None
    assert saved.read_text(encoding="utf-8") == result_text(questionnaire, screen.result, UK)
    assert _mode(saved) == 0o600
    assert (
        "Save a copy (t or h), or press Enter to finish: t "
        "Save a text file to which file? Press Enter for ketscreen-result.txt, or type b to "
        f"go back: Saved a copy to {saved}. Only your user account can open it (file mode 0600). "
        "Save another copy (t or h), or press Enter to finish:"
    ) in " ".join(screen.out.split())
    assert os.listdir(tmp_path) == ["ketscreen-result.txt"]


def test_nothing_is_written_without_asking(
    questionnaire: Questionnaire, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run(questionnaire, ["", *keys_for(questionnaire, full_answers()), "", ""])
    assert os.listdir(tmp_path) == []


def test_an_existing_file_is_never_replaced_silently(
    questionnaire: Questionnaire, tmp_path: Path
) -> None:
    kept = tmp_path / "mine.html"
    kept.write_text("precious", encoding="utf-8")
    replaced = tmp_path / "old.txt"
    replaced.write_text("old", encoding="utf-8")
    other = tmp_path / "other.html"
    typed = ["", "3", "1", ""]
    typed += ["h", str(kept), "", str(other)]  # exists: Enter asks for another name
    typed += ["h", str(tmp_path), "b"]  # a folder; b goes back to the choices
    typed += ["Xyz Not A Choice, Typed As Is"]  # not a choice
    typed += ["t", str(replaced), "y"]  # exists: y replaces it
    typed += ["t", str(tmp_path / "no-such-folder" / "r.txt"), "back"]  # cannot be written
    typed += [""]
    screen = run(questionnaire, typed, width=200)
    assert kept.read_text(encoding="utf-8") == "precious"
    assert other.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert replaced.read_text(encoding="utf-8").startswith("Your result\n")
    assert _mode(replaced) == 0o600
    out = " ".join(screen.out.split())
    assert (
        f"{kept} already exists. Type y to replace it, or type another file name "
        "(Enter: choose again): Save a web page (HTML) to which file?"
    ) in out
    assert f"Saved a copy to {other}." in out
    assert f"{tmp_path} is a folder; give a file name." in out
    assert '"Xyz Not A Choice, Typed As Is" is not a choice here.' in out
    assert "Could not save: " in out and "no such folder" in out
    assert sorted(os.listdir(tmp_path)) == ["mine.html", "old.txt", "other.html"]


def test_a_name_typed_where_y_or_enter_was_asked_is_the_other_name(
    questionnaire: Questionnaire, tmp_path: Path
) -> None:
    kept = tmp_path / "mine.txt"
    kept.write_text("precious", encoding="utf-8")
    other = tmp_path / "second.txt"
    typed = ["", "3", "1", "", "t", str(kept), str(other), ""]
    screen = run(questionnaire, typed, width=200)
    assert kept.read_text(encoding="utf-8") == "precious"
    assert other.read_text(encoding="utf-8").startswith("Your result\n")
    assert "is not a choice" not in screen.out


def test_a_file_name_at_the_choice_saves_that_kind(
    questionnaire: Questionnaire, tmp_path: Path
) -> None:
    page = tmp_path / "Result Copy.HTML"
    screen = run(questionnaire, ["", "3", "1", "", str(page), ""], width=200)
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "is not a choice" not in screen.out


def test_bad_input_at_the_save_choice_is_echoed_as_typed_and_cut_with_dots(
    questionnaire: Questionnaire,
) -> None:
    typed = "Please Save This Somewhere Safe For Me, Thank You Very Much"
    screen = run(questionnaire, ["", "3", "1", "", typed, ""], width=200)
    out = " ".join(screen.out.split())
    assert f'"{typed[:40]}..." is not a choice here.' in out


# -- paging in a real (rich) terminal ------------------------------------------------------


def test_a_long_result_is_shown_a_page_at_a_time_with_the_footer_on_each(
    questionnaire: Questionnaire,
) -> None:
    from ketscreen.ui.result_view import result_parts

    buffer = StringIO()
    console = Console(
        file=buffer, width=60, height=24, force_terminal=True, color_system=None, theme=THEME
    )
    term = Terminal(console, StringIO("\n" * 10), plain=False)
    parts = result_parts(
        questionnaire, severe_crisis(questionnaire), UK, plain=False, with_footer=False
    )
    show_result(term, parts, UK)
    pages = buffer.getvalue().split("\x1b[2J\x1b[H")  # each new page clears the screen
    first = pages[0].splitlines()
    assert first[0].startswith("Support is available now")  # unboxed: 60x24 is short
    assert len(first) <= 24
    # every rendered line ends where it should: list items start their own lines
    everything = buffer.getvalue().replace("\x1b[2J\x1b[H", "").splitlines()
    assert "Warning signs you reported" in everything
    assert "• Used more, or for longer, than you meant to" in everything
    assert all(len(line) <= 60 for line in everything)
    prompts = re.findall(r"Page (\d+) of (\d+): press Enter for more", buffer.getvalue())
    total = int(prompts[0][1])
    assert total >= 4 and [int(n) for n, _ in prompts] == list(range(1, total))
    assert len(pages) == total
    assert "scored 2026-11-21T12:00:00Z." in pages[-1]
    for page in pages:
        assert "Need to talk to someone now? Samaritans" in page


def test_the_readme_picture_is_drawn_by_the_tool_and_up_to_date() -> None:
    import importlib.util

    script = Path(__file__).resolve().parent.parent / "scripts" / "make_screenshot.py"
    spec = importlib.util.spec_from_file_location("make_screenshot", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    svg = module.result_svg()
    words = svg.replace("&#160;", " ")
    assert "Several warning signs" in words and "5 of 10 warning signs." in words
    assert module.TARGET.read_text(encoding="utf-8") == svg, (
        "docs/result.svg is out of date: run python scripts/make_screenshot.py"
    )


# -- another instrument: a total without a cut-off, no flags, no safety questions --------


@pytest.fixture(scope="module")
def sds() -> Questionnaire:
    from ketscreen.io.questionnaires import load_questionnaire

    return load_questionnaire(instrument="sds")


SDS_ANSWERS = {
    "sds_control": "sometimes",
    "sds_anxious": "never",
    "sds_worry": "often",
    "sds_wish_stop": "often",
    "sds_difficulty": "quite_difficult",
}


def test_the_sds_result_shows_its_total_and_says_there_is_no_cut_off(
    sds: Questionnaire,
) -> None:
    screen = run(sds, ["", *keys_for(sds, SDS_ANSWERS), "", ""])
    assert screen.result is not None and screen.result.scores == {"sds_total": 6}
    result = screen.out[screen.out.index("Your result") :]
    assert result.startswith(
        "Your result\nTotal worked out (no validated cut-off for ketamine)\n"
        "Your total is shown below, from 0 to 15."
    )
    assert "SDS total (0 to 15; higher means more signs of dependence): 6.\n" in result
    assert "Use the total to see change over time" in result  # its own guidance
    assert "Services and helplines: United Kingdom" in result
    assert "Samaritans" in result and "FRANK" in result
    assert " ".join(DISCLAIMER.split()) in " ".join(result.split())
    # a total is not a count of warning signs, and nothing raised a safety panel
    assert "warning sign" not in result
    assert "Support is available now" not in screen.out
    assert "Safety not assessed" not in screen.out


def test_an_sds_total_needs_every_answer(sds: Questionnaire) -> None:
    answers = {**SDS_ANSWERS, "sds_worry": "declined"}
    screen = run(sds, ["", *keys_for(sds, answers), "", ""])
    assert screen.result is not None and screen.result.band == "incomplete"
    assert "Not enough answers for a total" in screen.out
    assert "You answered 4 of the 5 questions for this result" in screen.out


def test_a_single_band_without_a_cut_off_is_not_coloured_as_good_or_bad(
    sds: Questionnaire,
) -> None:
    result = Interview(sds, SDS_ANSWERS).result(scored_at=SCORED_AT)
    buffer = StringIO()
    console = Console(file=buffer, width=80, color_system="standard", force_terminal=True)
    console.push_theme(THEME)
    render_result(console, sds, result, UK, plain=False)
    # bold only (SGR 1): neither green (32) nor red (31), as a one-band total says nothing
    assert re.search(r"\x1b\[1mTotal worked out", buffer.getvalue())
