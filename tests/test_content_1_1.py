"""Questionnaire 1.1.0: content quality, safety behaviour and sources (issue #10)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ketscreen import score
from ketscreen.cli import app
from ketscreen.core.model import DECLINED, Questionnaire
from ketscreen.core.normalize import normalize_answers
from ketscreen.core.scoring import NOT_ASSESSED
from ketscreen.io.fhir import response_to_fhir
from ketscreen.io.resources import load_resources
from ketscreen.io.session_store import SessionStore
from ketscreen.io.sessions import Session
from ketscreen.ui.reports import ReportFormat, render_report
from ketscreen.ui.result_view import result_text
from tests.conftest import full_answers

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
UK = load_resources()["UK"]
T0 = "2026-11-21T10:00:00Z"

# -- readability (Flesch-Kincaid grade 8 or below, per text) ------------------------------

MAX_GRADE = 8.0
UNAVOIDABLE = frozenset(
    {
        # names of drugs and medicines
        "ketamine",
        "benzodiazepines",
        "opioids",
        "naloxone",
        "medicine",
        # words a person must meet to act on the advice
        "prescribed",
        "prescriber",
        "emergency",
        "department",
        "diagnosis",
        # the names of two talking therapies and of symptoms
        "cognitive",
        "behavioural",
        "motivational",
        "interviewing",
        "concentration",
        "irritable",
        "anxiety",
        "paranoid",
    }
)
"""Long words that plain wording cannot avoid; each counts as a one-syllable word."""


def shown_texts(q: Questionnaire) -> Iterator[tuple[str, str]]:
    """Every text the questionnaire shows a person, with where it comes from."""
    yield "description", q.description
    for section in q.sections:
        if section.intro:
            yield f"section {section.id} intro", section.intro
    for item in q.items.values():
        yield f"{item.id} text", item.text
        if item.help:
            yield f"{item.id} help", item.help
    for band in q.band_rule.bands:
        yield f"band {band.id} headline", band.headline
    for band_id, text in q.guidance.bands.items():
        yield f"guidance for {band_id}", text
    for code, text in q.guidance.readiness.items():
        yield f"readiness {code}", text
    for topic in q.guidance.topics:
        yield f"topic {topic.id}", topic.text
    for level, info in q.levels.items():
        yield f"level {level.value} advice", info.advice
    for rule in q.flags:
        if rule.advice:
            yield f"flag {rule.id} advice", rule.advice


def grade(text: str) -> float:
    import textstat
    import textstat.backend.counts._count_syllables as syllables

    # textstat counts syllables with the CMU dictionary, which it downloads on first use,
    # else with Pyphen. Tests run offline, so always Pyphen: the same grade everywhere.
    syllables.get_cmudict = lambda lang: None  # type: ignore[assignment]
    plain = re.sub(
        r"[A-Za-z]+", lambda m: "it" if m.group(0).lower() in UNAVOIDABLE else m.group(0), text
    )
    return float(textstat.flesch_kincaid_grade(plain))


def test_every_text_shown_reads_at_grade_8_or_below(
    questionnaire: Questionnaire, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("textstat")
    graded = sorted(((grade(t), where, t) for where, t in shown_texts(questionnaire)), reverse=True)
    with capsys.disabled():
        print("\nHardest texts (Flesch-Kincaid grade):")
        for value, where, text in graded[:5]:
            print(f"  {value:4.1f}  {where}: {text[:70]}")
    too_hard = [(where, value) for value, where, _ in graded if value > MAX_GRADE]
    assert not too_hard, f"above grade {MAX_GRADE}: {too_hard}"
    assert len(graded) > 60  # every item, help, guidance paragraph and more was measured


def test_the_grade_is_measured_not_assumed() -> None:
    pytest.importorskip("textstat")
    hard = (
        "Notwithstanding considerable heterogeneity, participants characteristically "
        "demonstrated persistent symptomatology necessitating comprehensive evaluation."
    )
    assert grade(hard) > MAX_GRADE
    assert grade("Have you seen blood in your pee?") < MAX_GRADE


def test_one_question_per_item(questionnaire: Questionnaire) -> None:
    for item in questionnaire.items.values():
        assert item.text.count("?") == 1, item.id
        assert not re.search(r"\?\s+(Or|And)\b", item.text), item.id


def test_criteria_keep_the_dsm_qualifier_that_sets_the_threshold(
    questionnaire: Questionnaire,
) -> None:
    qualifiers = {
        "more_than_intended": "often",
        "cut_down_failed": "kept wanting",
        "time_spent": "a lot of",
        "neglect_obligations": "more than once",
        "social_problems": "again and again",
        "hazardous_use": "more than once",
        "despite_harm": "knew",
        "tolerance": "a lot more",
    }
    for item_id, words in qualifiers.items():
        assert words in questionnaire.items[item_id].text.lower(), item_id
    withdrawal = questionnaire.items["withdrawal"].text.lower()
    assert "crav" not in withdrawal  # cravings are C4's question
    assert "away without saying" not in questionnaire.items["secrecy"].text


def test_no_text_says_help_costs_nothing_or_addiction(questionnaire: Questionnaire) -> None:
    for where, text in shown_texts(questionnaire):
        assert "costs nothing" not in text, where
        assert "ketamine addiction" not in text.lower(), where


# -- sources --------------------------------------------------------------------------------

RECOGNIZED = {
    "dsm5tr",
    "icd11",
    "assist",
    "asq",
    "cssrs",
    "uropathy",
    "cholangiopathy",
    "frank",
    "nida",
    "stages",
    "euda",
}


def test_every_item_names_a_recognized_reference(questionnaire: Questionnaire) -> None:
    known = {s.id for s in questionnaire.sources}
    assert known >= RECOGNIZED
    for item in questionnaire.items.values():
        assert RECOGNIZED & set(item.source), f"{item.id} cites only seed pages"


def test_seed_pages_are_secondary_and_only_for_signs_they_name(
    questionnaire: Questionnaire,
) -> None:
    for source in questionnaire.sources:
        if source.id.startswith("seed"):
            assert source.title.startswith("Secondary:"), source.id
    # Pages that do not mention the sign are not cited for it (the 1.1.0 review).
    for item_id in ("urine_blood", "urine_retention", "readiness", "jaundice"):
        assert not any(s.startswith("seed") for s in questionnaire.items[item_id].source)
    assert "seed004" not in questionnaire.items["flank_pain"].source


def test_nothing_cites_a_path_that_does_not_ship(questionnaire: Questionnaire) -> None:
    for source in questionnaire.sources:
        for word in source.ref.split():
            if "/" in word and not re.match(r"^[a-z0-9.-]+\.[a-z]{2,}/", word):
                assert (ROOT / word).exists(), f"{source.id} cites {word}"
        assert "shared/" not in source.ref and ".txt" not in source.ref, source.id


def test_the_docs_list_every_source_with_enough_to_find_it(questionnaire: Questionnaire) -> None:
    text = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    for source in questionnaire.sources:
        if not source.id.startswith("seed"):
            assert f"`{source.id}`" in text, source.id
    assert "DSM-5-TR" in text and "2022" in text and "Posner" in text
    assert "docs/sources.md" in (ROOT / "README.md").read_text(encoding="utf-8")


# -- the new routes ------------------------------------------------------------------------


def test_unable_to_pee_routes_to_the_emergency_department(questionnaire: Questionnaire) -> None:
    result = score(questionnaire, full_answers(urine_retention="yes"))
    assert [(f.id, f.level.value) for f in result.flags] == [("urine_retention", "urgent")]
    screen = result_text(questionnaire, result, UK)
    urgent = screen[screen.index("Get medical advice today") : screen.index("Your result")]
    assert "go to an emergency department now" in " ".join(urgent.split())
    assert "urine_retention" in result.guidance and "bladder" in result.guidance


def test_jaundice_is_urgent(questionnaire: Questionnaire) -> None:
    result = score(questionnaire, full_answers(jaundice="yes"))
    assert result.top_flag_level is not None and result.top_flag_level.value == "urgent"
    assert "jaundice" in result.guidance


def test_an_overdose_alone_brings_overdose_and_safer_use_guidance(
    questionnaire: Questionnaire,
) -> None:
    result = score(questionnaire, full_answers(overdose_event="yes"))
    assert [f.level.value for f in result.flags] == ["see_doctor"]
    assert {"overdose", "harm_reduction"} <= set(result.guidance)
    words = " ".join(result_text(questionnaire, result, UK).split())
    assert "recovery position" in words and "Naloxone does not reverse ketamine" in words


def test_stopping_safely_no_longer_says_stopping_ketamine_is_risky(
    questionnaire: Questionnaire,
) -> None:
    result = score(questionnaire, full_answers(mix_depressants="yes"))
    assert "stopping_safely" in result.guidance
    topic = next(t for t in questionnaire.guidance.topics if t.id == "stopping_safely")
    assert "not usually dangerous" in topic.text
    assert "benzodiazepines or GHB" in topic.text
    assert "before stopping suddenly" not in topic.text


def test_cope_use_is_shown_not_counted(questionnaire: Questionnaire) -> None:
    base = score(questionnaire, full_answers())
    coping = score(questionnaire, full_answers(cope_use="yes"))
    assert (coping.criteria_count, coping.warning_signs) == (
        base.criteria_count,
        base.warning_signs,
    )
    assert "cope_use" in coping.guidance
    assert "Used ketamine to cope or escape" in result_text(questionnaire, coping, UK)


def test_the_examples_cover_every_new_rule(questionnaire: Questionnaire) -> None:
    covered: set[str] = set()
    for example in questionnaire.examples:
        expect: dict[str, Any] = dict(example.expect)
        covered |= set(expect.get("guidance", []))
        covered |= set(expect.get("flags", []))
        if example.answers.get("use_12m") == "prescribed_only" and expect.get("flags"):
            covered.add("prescribed with flags")
        if example.answers.get("self_harm") == DECLINED:
            covered.add("declined self-harm")
        if expect.get("top_flag_level") == NOT_ASSESSED:
            covered.add("not assessed")
    for rule in (
        "bladder_pain",
        "prescribed with flags",
        "urine_retention",
        "jaundice",
        "overdose",
        "cope_use",
        "declined self-harm",
        "not assessed",
    ):
        assert rule in covered, rule


# -- safety behaviour (CONTENT.md section 4) ----------------------------------------------


def test_the_crisis_panel_lists_free_lines_apart_from_the_emergency_number(
    questionnaire: Questionnaire,
) -> None:
    result = score(questionnaire, full_answers(self_harm="past_month"))
    screen = result_text(questionnaire, result, UK)
    panel = screen[: screen.index("Your result")]
    free = panel[panel.index("free and confidential") : panel.index("If you are in danger")]
    assert "Samaritans" in free and "999" not in free
    assert "If you are in danger now, call 999." in panel
    assert "stay with someone you trust" in " ".join(panel.split())


def test_declined_self_harm_gets_a_gentle_line_without_alarm(
    questionnaire: Questionnaire,
) -> None:
    result = score(questionnaire, full_answers(self_harm="declined"))
    assert result.top_level is None and not result.not_assessed
    screen = " ".join(result_text(questionnaire, result, UK).split())
    assert "If thoughts of harming yourself ever come" in screen
    assert "Samaritans: Call 116 123" in screen
    assert "Support is available now" not in screen


def test_not_assessed_everywhere_for_a_stopped_intake_with_two_answers(
    questionnaire: Questionnaire, tmp_path: Path
) -> None:
    store = SessionStore(tmp_path / "sessions")
    session = store.create(questionnaire, "C-9", at=T0)
    session.record_answers({"use_12m": "yes", "freq_3m": "weekly"}, at=T0)
    session.stop(at=T0)
    store.save(session)
    result = session.result()
    assert result is not None
    assert (result.top_level, result.not_assessed) == (NOT_ASSESSED, ("self_harm",))
    # the screen
    screen = " ".join(result_text(questionnaire, result, UK).split())
    assert "Safety not assessed" in screen and "No flags" not in screen
    # the sessions list
    [summary], _ = store.summaries()
    assert summary.top_flag_level == NOT_ASSESSED
    # reports, every format
    for fmt in (ReportFormat.TEXT, ReportFormat.MARKDOWN, ReportFormat.HTML):
        text = render_report(session, fmt)
        assert "NOT ASSESSED" in text and "No flags were raised" not in text, fmt
    data = json.loads(render_report(session, ReportFormat.JSON))
    assert data["result"]["top_flag_level"] == NOT_ASSESSED
    # FHIR: the level coding and the narrative
    fhir = response_to_fhir(questionnaire, result, status="stopped")
    [group] = [i for i in fhir["item"] if i["linkId"] == "result"]
    [top] = [i for i in group["item"] if i["linkId"] == "result.top_flag_level"]
    assert top["answer"][0]["valueCoding"]["code"] == NOT_ASSESSED
    assert "Not assessed" in fhir["text"]["div"]
    # batch
    record = tmp_path / "two.jsonl"
    record.write_text(json.dumps({"use_12m": "yes", "freq_3m": "weekly"}) + "\n")
    out = runner.invoke(app, ["score", str(record), "--format", "jsonl"])
    assert json.loads(out.stdout)["top_flag_level"] == NOT_ASSESSED
    assert "not_assessed 1" in out.stderr


INTAKE_CRISIS = ["", "3", "2"]  # start, no use, self-harm thoughts in the past month


def test_intake_shows_the_counselor_panel_and_asks_for_a_safety_note(
    isolated_env: Path,
) -> None:
    typed = [*INTAKE_CRISIS, "Asked about plan and means: none. Safety plan agreed.", ""]
    result = runner.invoke(
        app,
        ["intake", "--client", "C-7", "--region", "UK"],
        input="\n".join([*typed, "", "", ""]) + "\n",
        env={"COLUMNS": "80"},
    )
    assert result.exit_code == 0, result.stdout[-2000:]
    words = " ".join(result.stdout.split())
    client_panel = words.index("Support is available now")
    counselor = words.index("For the counselor: safety protocol")
    note = words.index("Safety note: what you did")
    assert client_panel < counselor < note < words.index("Check the client's answers")
    assert "ask about a plan, intent, means and past attempts" in words
    assert "C-SSRS" in words and "ASQ" in words
    assert "Follow your service's own protocol." in words
    assert "Do not leave the client alone." not in words  # only for "now"
    [path] = (isolated_env / "sessions").glob("*.json")
    doc = json.loads(path.read_text())
    [saved] = doc["safety_notes"]
    assert saved["item"] == "self_harm" and saved["answer"] == "past_month"
    assert saved["text"].startswith("Asked about plan and means")
    report = render_report(SessionStore().load(path.stem), ReportFormat.MARKDOWN)
    flat = " ".join(report.split())
    assert "For the counselor: safety protocol" in flat
    [row] = [line for line in report.splitlines() if "Asked about plan and means" in line]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", row)  # the note and its time


def test_an_empty_safety_note_is_recorded_as_left_empty(
    isolated_env: Path, questionnaire: Questionnaire
) -> None:
    typed = ["", "3", "3", "", ""]  # no use; thoughts right now; empty note; go on
    result = runner.invoke(
        app,
        ["intake", "--client", "C-8", "--region", "UK"],
        input="\n".join([*typed, "", "", ""]) + "\n",
    )
    assert result.exit_code == 0, result.stdout[-2000:]
    assert "Do not leave the client alone." in result.stdout
    assert "Recorded: safety note left empty." in result.stdout
    [path] = (isolated_env / "sessions").glob("*.json")
    session = SessionStore().load(path.stem)
    assert [(n.answer, n.text) for n in session.safety_notes] == [("now", "")]
    assert "Left empty by the counselor" in " ".join(
        render_report(session, ReportFormat.TEXT).split()
    )


def test_resume_starts_with_a_reminder_of_the_positive_answer(isolated_env: Path) -> None:
    first = runner.invoke(
        app,
        ["intake", "--client", "C-9", "--region", "UK"],
        input="\n1\n5\n1\n" + "2\n" * 16 + "2\nCalled the crisis team\n\nq\n",
    )
    assert first.exit_code == 0, first.stdout[-1500:]
    [path] = (isolated_env / "sessions").glob("*.json")
    again = runner.invoke(app, ["intake", "--resume", path.stem, "--region", "UK"], input="q\n")
    words = " ".join(again.stdout.split())
    assert words.index(
        "Earlier in this session the client reported thoughts of suicide or self-harm"
    ) < words.index("resuming session")
    assert "Safety note," in words and "Called the crisis team" in words


def test_a_session_file_keeps_safety_notes(tmp_path: Path, questionnaire: Questionnaire) -> None:
    store = SessionStore(tmp_path / "s")
    session = store.create(questionnaire, "C-1", at=T0)
    session.record_answers({"use_12m": "no", "self_harm": "now"}, at=T0)
    session.add_safety_note("self_harm", "now", "emergency", "Stayed \x1b[Dwith them", at=T0)
    store.save(session)
    loaded: Session = store.load(session.id)
    assert [n.to_dict() for n in loaded.safety_notes] == [
        {
            "at": T0,
            "item": "self_harm",
            "answer": "now",
            "level": "emergency",
            "text": "Stayed with them",
        }
    ]


def test_an_amendment_to_a_positive_answer_brings_the_counselor_protocol(
    isolated_env: Path,
) -> None:
    first = runner.invoke(
        app, ["intake", "--client", "C-5", "--region", "UK"], input="\n3\n1\n\n\n\n"
    )
    assert first.exit_code == 0, first.stdout[-1500:]
    [path] = (isolated_env / "sessions").glob("*.json")
    amended = runner.invoke(
        app,
        ["intake", "--amend", path.stem, "--reason", "client said more", "--region", "UK"],
        input="\n2\n3\nStayed with the client\n\n\n\n",
    )
    assert amended.exit_code == 0, amended.stdout[-1500:]
    assert "For the counselor: safety protocol" in amended.stdout
    assert "Do not leave the client alone." in amended.stdout
    doc = json.loads(path.read_text())
    assert doc["status"] == "amended" and doc["answers"]["self_harm"] == "now"
    assert [n["text"] for n in doc["safety_notes"]] == ["Stayed with the client"]
    report = render_report(SessionStore().load(path.stem), ReportFormat.MARKDOWN)
    assert "Stayed with the client" in report


def test_the_report_names_the_mind_and_body_sections_for_counselors(
    questionnaire: Questionnaire,
) -> None:
    session = Session.start("20261121-100000-abcde", questionnaire, "C-1", at=T0)
    session.record_answers(normalize_answers(questionnaire, full_answers()), at=T0)
    session.complete(at=T0)
    report = render_report(session, ReportFormat.MARKDOWN)
    assert report.index("Mental health") < report.index("Safety") < report.index("Physical health")


def test_canadas_overdose_line_is_shown_with_the_using_alone_alert(
    questionnaire: Questionnaire,
) -> None:
    canada = load_resources()["CA"]
    alone = " ".join(
        result_text(
            questionnaire, score(questionnaire, full_answers(use_alone="yes")), canada
        ).split()
    )
    block = alone[alone.index("Lower your risk") : alone.index("What you can do next")]
    assert "National Overdose Response Service: Call 1-888-688-6677" in block
    mixing = score(questionnaire, full_answers(mix_depressants="yes"))
    words = " ".join(result_text(questionnaire, mixing, canada).split())
    block = words[words.index("Lower your risk") : words.index("What you can do next")]
    assert "National Overdose Response Service:" not in block
