"""A third questionnaire that nothing in ketscreen was written for, run through every
command from its YAML file alone (#14).

The test writes `sleep_check` into a temporary folder: three items, two scores, a band
chosen by a condition, a band for too few answers, two range bands, one crisis flag,
its own safety-planning line, guidance and worked examples. Its ids share nothing with
the shipped instruments, so whatever the commands show of it comes from the file.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ketscreen.cli import app
from ketscreen.core.model import Questionnaire
from ketscreen.core.texts import DISCLAIMER
from ketscreen.errors import ExitCode
from ketscreen.io import questionnaires
from ketscreen.io.files import data_dir
from ketscreen.io.questionnaires import load_questionnaire
from tests.interview_helpers import keys_for
from tests.interview_helpers import run as run_screener

SLEEP_CHECK = """\
id: sleep_check
version: 1.0.0
title: Night-time check (synthetic)
description: Three questions about your nights in the past two weeks.
safety_plan: If you can, stay with someone you trust tonight, and keep the lights on.

sources:
  - {id: synthetic, title: "Written for the tests", ref: "tests/test_third_instrument.py"}

sections:
  - id: nights
    title: Your nights
    time_frame: past 2 weeks
    items:
      - id: sc_trouble
        type: yes_no
        short: Trouble sleeping
        text: In the past 2 weeks, have you had trouble sleeping?
        source: synthetic
      - id: sc_waking
        type: single
        short: Waking in the night
        text: On how many nights did you wake and stay awake?
        enable_when: {item: sc_trouble, equals: "yes"}
        choices:
          - {code: none, label: "No nights", weight: 0}
          - {code: some, label: "Some nights", weight: 1}
          - {code: most, label: "Most nights", weight: 2}
        source: synthetic
      - id: sc_dread
        type: single
        short: Dread at night
        text: Have you felt that you could not face another night?
        enable_when: {item: sc_trouble, equals: "yes"}
        choices:
          - {code: "no", label: "No", weight: 0}
          - {code: some, label: "Some nights", weight: 1}
          - {code: most, label: "Most nights", weight: 2}
        source: synthetic

scores:
  - id: sc_restless
    label: Restless-night points (0 to 4)
    items: [sc_waking, sc_dread]
  - id: sc_wake_points
    label: Waking points (0 to 2)
    items: [sc_waking]

bands:
  score: sc_restless
  max_missing: 0
  list:
    - id: sc_sleeping_well
      when: {item: sc_trouble, equals: "no"}
      label: Sleeping well
      headline: You have slept well in the past 2 weeks.
    - id: sc_unknown
      incomplete: true
      label: Too few answers to tell
      headline: Both night questions are needed for a result.
    - id: sc_calm
      range: [0, 1]
      label: Mostly calm nights
      headline: Your nights have been mostly calm.
    - id: sc_rough
      range: [2, 4]
      label: Rough nights
      headline: Your nights have been rough lately.

levels:
  emergency: {label: Emergency, advice: "If you are in danger now, call your emergency number."}
  crisis: {label: Crisis support, advice: Please talk to someone tonight.}
  urgent: {label: Get medical advice today, advice: Ask a doctor today.}
  see_doctor: {label: See a doctor, advice: Book a visit with a doctor.}
  harm_reduction: {label: Lower your risk, advice: Small changes help.}

flags:
  - {id: sc_dread_most, level: crisis, item: sc_dread, when: {item: sc_dread, equals: most},
     label: Dread of the night on most nights}

guidance:
  bands:
    sc_rough: A regular bedtime and a dark, quiet room help; a doctor can help too.
    sc_calm: Keep doing what works for you.

examples:
  - name: sleeping well
    answers: {sc_trouble: "no"}
    expect: {band: sc_sleeping_well, sc_restless: null, flags: [], top_flag_level: null}
  - name: rough nights with dread
    answers: {sc_trouble: "yes", sc_waking: most, sc_dread: most}
    expect: {band: sc_rough, sc_restless: 4, sc_wake_points: 2, flags: [sc_dread_most],
             top_flag_level: crisis}
  - name: one night question declined
    answers: {sc_trouble: "yes", sc_waking: some, sc_dread: declined}
    expect: {band: sc_unknown, sc_restless: 1, missing: [sc_dread], top_flag_level: null}
"""

ROUGH = {"sc_trouble": "yes", "sc_waking": "most", "sc_dread": "most"}
CALM = {"sc_trouble": "yes", "sc_waking": "some", "sc_dread": "no"}
PLAN = "If you can, stay with someone you trust tonight, and keep the lights on."
SAFETY_NOTE = "Stayed with the client"
runner = CliRunner()
ENV = {"COLUMNS": "100"}


@pytest.fixture
def sleep_file(tmp_path: Path) -> Path:
    path = tmp_path / "drafts" / "sleep_check-1.0.0.yaml"
    path.parent.mkdir()
    path.write_text(SLEEP_CHECK, encoding="utf-8")
    return path


@pytest.fixture
def shipped_too(
    tmp_path: Path, sleep_file: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """`sleep_check` installed beside the shipped instruments (a copy of the data
    folder), so that `--instrument sleep_check` finds it and a saved session of it can
    be reported without naming its file."""
    folder = tmp_path / "questions"
    shutil.copytree(data_dir(), folder)
    shutil.copy(sleep_file, folder / sleep_file.name)
    monkeypatch.setattr(questionnaires, "data_dir", lambda: folder)
    questionnaires.shipped.cache_clear()
    yield folder
    questionnaires.shipped.cache_clear()


@pytest.fixture
def sleep_check(sleep_file: Path) -> Questionnaire:
    return load_questionnaire(sleep_file)


def invoke(*args: str, lines: list[str] | None = None) -> Result:
    typed = "".join(f"{line}\n" for line in lines) if lines is not None else None
    return runner.invoke(app, list(args), input=typed, env=ENV)


def said(text: str) -> str:
    """What was shown, with line wrapping undone."""
    return " ".join(text.split())


# -- validate, show, export fhir ---------------------------------------------------------


def test_validate_checks_it_and_its_examples(sleep_file: Path, shipped_too: Path) -> None:
    summary = (
        "questionnaire sleep_check 1.0.0: 1 section, 3 items, 4 bands, 1 flag; "
        "3 examples agree with the engine"
    )
    for args in ([str(sleep_file)], ["--instrument", "sleep_check"]):
        result = invoke("validate", *args)
        assert result.exit_code == ExitCode.OK, result.stderr
        assert summary in result.stdout
    broken = sleep_file.with_name("broken.yaml")
    broken.write_text(SLEEP_CHECK.replace("sc_restless: 4,", "sc_restless: 3,"), encoding="utf-8")
    result = invoke("validate", str(broken))
    assert result.exit_code == ExitCode.ERROR
    assert "rough nights with dread" in result.stderr


def test_show_lists_its_own_scores_bands_and_flag(shipped_too: Path) -> None:
    result = invoke("show", "--instrument", "sleep_check")
    assert result.exit_code == ExitCode.OK, result.stderr
    shown = said(result.stdout)
    for expected in (
        "Night-time check (synthetic) (sleep_check 1.0.0)",
        "sc_restless: Restless-night points (0 to 4) = sc_waking + sc_dread",
        "sc_wake_points: Waking points (0 to 2) = sc_waking",
        "Rough nights",
        "Sleeping well",
        "sc_dread_most",
        "Safety questions: sc_dread.",
    ):
        assert expected in shown
    assert "With 1 to 0" not in shown  # max_missing 0: no lower bound to explain


def test_export_fhir_gives_its_questionnaire_and_package(
    sleep_file: Path, shipped_too: Path
) -> None:
    for args in ([str(sleep_file)], ["--instrument", "sleep_check"]):
        result = invoke("export", "fhir", *args)
        assert result.exit_code == ExitCode.OK, result.stderr
        resource = json.loads(result.stdout)
        assert resource["resourceType"] == "Questionnaire"
        assert resource["url"].endswith("/Questionnaire/sleep_check")
        assert resource["experimental"] is True  # not a listed release
        assert "sc_dread" in result.stdout and "Rough nights" in result.stdout
    bundle = json.loads(invoke("export", "fhir", "--instrument", "sleep_check", "--bundle").stdout)
    assert bundle["resourceType"] == "Bundle"
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds[0] == "Questionnaire" and "CodeSystem" in kinds and "ValueSet" in kinds
    bands = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "CodeSystem" and e["resource"]["id"].endswith("-band")
    )
    assert [c["code"] for c in bands["concept"]] == [
        "sc_sleeping_well",
        "sc_unknown",
        "sc_calm",
        "sc_rough",
    ]


def test_a_file_of_another_instrument_is_a_usage_error(sleep_file: Path) -> None:
    for args in (
        ["validate", str(sleep_file), "--instrument", "sds"],
        ["show", str(sleep_file), "--instrument", "ketamine"],
        ["export", "fhir", str(sleep_file), "--instrument", "sds"],
        ["run", "--questionnaire", str(sleep_file), "--instrument", "sds"],
    ):
        result = invoke(*args, lines=[])
        assert result.exit_code == ExitCode.USAGE, args
        assert result.stderr.startswith("Error: ") and "is questionnaire sleep_check, not " in (
            result.stderr
        )
        assert "Traceback" not in result.stderr


def test_an_instrument_that_is_not_installed_names_those_that_are() -> None:
    for args in (["run"], ["show"], ["validate"], ["export", "fhir"]):
        result = invoke(*args, "--instrument", "sleep_check", lines=[])
        assert result.exit_code == ExitCode.USAGE, args
        assert "no questionnaire 'sleep_check' ships" in result.stderr
        assert "instruments: ketamine, sds" in result.stderr


# -- run ---------------------------------------------------------------------------------


def test_the_screener_shows_its_crisis_panel_band_and_score(sleep_check: Questionnaire) -> None:
    screen = run_screener(sleep_check, ["", *keys_for(sleep_check, ROUGH), "", ""])
    assert screen.result is not None
    assert screen.result.scores == {"sc_restless": 4, "sc_wake_points": 2}
    out = screen.out
    # the crisis panel at once after the answer, with its own safety-planning line
    assert out.index("Support is available now") < out.index("Check your answers")
    assert PLAN in said(out)
    assert "ketamine" not in out.casefold()
    result = out[out.rindex("Support is available now") :]  # the result screen
    assert result.index("Support is available now") < result.index("Rough nights")
    assert "Your nights have been rough lately." in result
    assert "Restless-night points (0 to 4): 4." in result
    assert "warning sign" not in result  # a total of points, not a count of signs
    assert "A regular bedtime and a dark, quiet room help" in said(result)
    assert " ".join(DISCLAIMER.split()) in said(result)
    assert "Samaritans" in result


def test_the_screener_takes_its_when_band_and_a_calm_total(sleep_check: Questionnaire) -> None:
    well = run_screener(sleep_check, ["", "1", "", ""])
    assert well.result is not None and well.result.band == "sc_sleeping_well"
    assert "Sleeping well" in well.out and "You have slept well" in well.out
    calm = run_screener(sleep_check, ["", *keys_for(sleep_check, CALM), "", ""])
    assert "Mostly calm nights" in calm.out
    assert "Restless-night points (0 to 4): 1." in calm.out
    assert "Support is available now" not in calm.out


def test_run_takes_it_by_file_and_by_id(sleep_file: Path, shipped_too: Path) -> None:
    typed = ["", *keys_for(load_questionnaire(sleep_file), CALM), "", ""]
    for args in (["--questionnaire", str(sleep_file)], ["--instrument", "sleep_check"]):
        result = invoke("run", "--region", "UK", *args, lines=typed)
        assert result.exit_code == ExitCode.OK, result.stderr
        assert "Night-time check (synthetic)" in result.stdout
        assert "Mostly calm nights" in result.stdout
        assert "Questionnaire sleep_check version 1.0.0" in said(result.stdout)


# -- template and score ------------------------------------------------------------------


def test_template_and_score_use_its_items_and_scores(
    sleep_file: Path, shipped_too: Path, tmp_path: Path
) -> None:
    for args in (["--questionnaire", str(sleep_file)], ["--instrument", "sleep_check"]):
        blank = invoke("template", *args)
        assert blank.exit_code == ExitCode.OK, blank.stderr
        assert blank.stdout.splitlines()[0] == (
            "respondent_id,sc_trouble,sc_waking,sc_dread,questionnaire_version"
        )
    records = tmp_path / "nights.csv"
    records.write_text(
        "respondent_id,sc_trouble,sc_waking,sc_dread\nr1,yes,most,most\nr2,no,,\n",
        encoding="utf-8",
    )
    scored = invoke("score", "--instrument", "sleep_check", str(records))
    assert scored.exit_code == ExitCode.OK, scored.stderr
    header, first, second = scored.stdout.splitlines()
    columns = header.split(",")
    # its own score columns, after the common ones, in its scores: order
    assert columns[3:7] == ["band", "lower_bound", "sc_restless", "sc_wake_points"]
    row = dict(zip(columns, first.split(","), strict=True))
    assert (row["band"], row["sc_restless"], row["sc_wake_points"]) == ("sc_rough", "4", "2")
    assert (row["top_flag_level"], row["flags"]) == ("crisis", "sc_dread_most")
    assert dict(zip(columns, second.split(","), strict=True))["band"] == "sc_sleeping_well"
    assert "Bands: sc_sleeping_well 1, sc_unknown 0, sc_calm 0, sc_rough 1" in scored.stderr
    assert "crisis or emergency flags: review those first" in scored.stderr


# -- intake and report -------------------------------------------------------------------


def test_an_intake_and_its_report_in_every_format(shipped_too: Path, isolated_env: Path) -> None:
    # yes, most nights, most nights: the client's crisis panel, then the counselor's
    # and the safety note; Enter goes on, Enter on the review; a general note
    typed = ["", "2", "3", "3", SAFETY_NOTE, "", "", "Sleeps badly since the move", ""]
    done = invoke(
        "intake", "--client", "C-77", "--instrument", "sleep_check", "--region", "UK", lines=typed
    )
    assert done.exit_code == ExitCode.OK, done.stderr
    shown = said(done.stdout)
    assert "Night-time check (synthetic): counselor intake" in shown
    assert "For the counselor: safety protocol" in shown
    assert "The client reported dread of the night on most nights." in shown
    assert PLAN in shown
    assert "Rough nights" in shown
    sid = next((isolated_env / "sessions").glob("*.json")).stem
    saved = json.loads((isolated_env / "sessions" / f"{sid}.json").read_text(encoding="utf-8"))
    assert saved["questionnaire"]["id"] == "sleep_check"

    listed = said(invoke("sessions").stdout)
    assert "C-77" in listed and "Rough nights (sc_rough)" in listed and "crisis" in listed

    text = invoke("report", sid)
    assert text.exit_code == ExitCode.OK, text.stderr
    report = said(text.stdout)
    for expected in (
        "NIGHT-TIME CHECK (SYNTHETIC): INTAKE REPORT",
        "Questionnaire: sleep_check 1.0.0",
        "Crisis support (crisis)",
        "Dread of the night on most nights",
        "The client reported dread of the night on most nights.",
        SAFETY_NOTE,
        "Band: Rough nights (sc_rough)",
        "Restless-night points (0 to 4): 4",
        "Waking points (0 to 2): 2",
        "YOUR NIGHTS (PAST 2 WEEKS)",
        "Sleeps badly since the move",
        "A regular bedtime and a dark, quiet room help",
    ):
        assert expected in report, expected
    assert report.index("Dread of the night") < report.index("Band: Rough nights")

    doc = json.loads(invoke("report", sid, "--format", "json").stdout)
    assert doc["result"]["band"] == "sc_rough"
    assert (doc["result"]["sc_restless"], doc["result"]["sc_wake_points"]) == (4, 2)
    assert doc["result"]["top_flag_level"] == "crisis"
    assert doc["flags"][0]["flags"] == ["Dread of the night on most nights"]

    page = invoke("report", sid, "--format", "html").stdout
    assert "Night-time check (synthetic): intake report" in page
    assert "Rough nights" in page and "Dread of the night on most nights" in page

    handout = said(invoke("report", sid, "--handout").stdout)
    assert "NIGHT-TIME CHECK (SYNTHETIC): YOUR TAKE-HOME SHEET" in handout
    assert "Rough nights. Your nights have been rough lately." in handout
    assert "Restless-night points (0 to 4): 4" in handout
    assert SAFETY_NOTE not in handout  # no counselor-only text

    response = json.loads(invoke("report", sid, "--format", "fhir").stdout)
    assert response["resourceType"] == "QuestionnaireResponse"
    assert response["questionnaire"].endswith("/Questionnaire/sleep_check|1.0.0")
    assert "Result: Rough nights." in response["text"]["div"]


def test_a_resumed_intake_keeps_its_instrument(shipped_too: Path, isolated_env: Path) -> None:
    stopped = invoke(
        "intake",
        "--client",
        "C-78",
        "--instrument",
        "sleep_check",
        "--region",
        "UK",
        lines=["", "2", "q"],
    )
    assert stopped.exit_code == ExitCode.OK, stopped.stderr
    sid = next((isolated_env / "sessions").glob("*.json")).stem
    again = invoke("intake", "--resume", sid, "--instrument", "sds", lines=[])
    assert again.exit_code == ExitCode.USAGE
    assert "--instrument chooses the questionnaire of a new session" in again.stderr
    resumed = invoke("intake", "--resume", sid, "--region", "UK", lines=["", "2", "1", "", "", ""])
    assert resumed.exit_code == ExitCode.OK, resumed.stderr
    assert "Restless-night points (0 to 4): 1." in resumed.stdout


def test_a_total_with_answers_missing_is_at_least_on_the_screen_and_in_the_report() -> None:
    from ketscreen.core.normalize import normalize_answers
    from ketscreen.io.questionnaires import parse_questionnaire
    from ketscreen.io.sessions import Session
    from ketscreen.ui.reports import ReportFormat, render_report

    lenient = SLEEP_CHECK.replace("max_missing: 0", "max_missing: 1")
    q = parse_questionnaire(lenient.encode(), "lenient.yaml")
    answers = {"sc_trouble": "yes", "sc_waking": "some", "sc_dread": "declined"}
    screen = run_screener(q, ["", *keys_for(q, answers), "", ""])
    assert "Mostly calm nights (at least)" in screen.out
    assert (
        "Restless-night points (0 to 4): at least 1. 1 of its questions was not answered, "
        "so the total could be higher." in said(screen.out)
    )
    session = Session.start("20261121-100000-abcde", q, "C-1", at="2026-11-21T10:00:00Z")
    session.record_answers(normalize_answers(q, answers), at="2026-11-21T10:00:00Z")
    session.complete(at="2026-11-21T10:00:00Z")
    report = said(render_report(session, ReportFormat.TEXT))
    assert "Band: At least: Mostly calm nights (sc_calm)" in report
    assert "Restless-night points (0 to 4): at least 1" in report
    assert "the totals are a lower bound" in report and "warning-sign" not in report


# -- no instrument's ids in the code -----------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
# Docstrings are not checked (see `_strings`): the library's example in
# ketscreen/__init__.py and the condition language's examples name ketamine's items.
# Words of the questionnaire format itself that ketamine's ids happen to share: a band
# with `incomplete: true`, `guidance: readiness:`, and a range band's `low` end
# (`Band.low`). Code that reads the format says them for every instrument.
FORMAT_WORDS = {"incomplete", "readiness", "low"}


def _ketamine_ids() -> set[str]:
    ids: set[str] = set()
    for entry in questionnaires.versions("ketamine"):
        q = load_questionnaire(instrument="ketamine", version=entry.version)
        ids |= set(q.items) | {s.id for s in q.scores} | {b.id for b in q.band_rule.bands}
        ids |= {f.id for f in q.flags}
    return ids


def _strings(path: Path) -> Iterator[tuple[int, str]]:
    """Every string literal of a module with its line; docstrings (a string standing
    alone as a statement) are left out, as they explain with examples. The literal
    parts of f-strings are included."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.lineno, node.value


def test_the_format_words_are_the_formats_own() -> None:
    from dataclasses import fields

    from ketscreen.core.model import Band

    described = (ROOT / "docs" / "questionnaire-format.md").read_text(encoding="utf-8")
    for word in FORMAT_WORDS:
        quoted = re.search(rf"`[^`]*\b{word}\b[^`]*`", described)
        assert quoted or word in {f.name for f in fields(Band)}, word


def test_no_code_names_an_id_of_the_shipped_questionnaires() -> None:
    """The engine, the screens and the batch scorer read ids from the questionnaire;
    none is written into the code (#14)."""

    ids = _ketamine_ids() - FORMAT_WORDS
    assert {"use_12m", "self_harm", "criteria_count", "no_recent_use", "self_harm_now"} <= ids
    word = re.compile(
        r"\b(" + "|".join(sorted(map(re.escape, ids), key=len, reverse=True)) + r")\b"
    )
    hits = []
    for path in sorted((ROOT / "ketscreen").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        for line, text in _strings(path):
            hits += [f"{name}:{line}: {found!r} in {text[:60]!r}" for found in word.findall(text)]
    assert not hits, "ids of a shipped questionnaire in the code:\n" + "\n".join(hits)


def test_the_screens_do_not_say_ketamine() -> None:
    hits = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "ketscreen" / "ui").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"\bketamine\b", line, re.IGNORECASE)
    ]
    assert not hits, "the screens name an instrument: " + ", ".join(hits)
