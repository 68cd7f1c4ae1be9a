"""Issue #11, points 6-8 and 10: text from a file or a person is shown, never obeyed.

Escape sequences stored in files reach no terminal raw (they are shown as `\\x1b`), Rich
markup in typed or stored text is never parsed, every HTML page escapes its title and
carries the report's Content-Security-Policy, and FHIR errors quote only code-like values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketscreen import load_questionnaire, score
from ketscreen.cli import app
from ketscreen.core.model import Questionnaire
from ketscreen.core.safe_text import json_safe, visible, without_controls
from ketscreen.errors import ExitCode
from ketscreen.io.fhir import response_to_fhir
from ketscreen.io.resources import load_resources
from ketscreen.io.session_store import SessionStore
from ketscreen.io.sessions import typed_note_parts
from ketscreen.ui.console import make_console
from ketscreen.ui.reports import ReportFormat, render_report
from ketscreen.ui.reports.as_html import CSP
from ketscreen.ui.result_view import result_html
from tests.interview_helpers import keys_for, run

runner = CliRunner()
ESC = "\x1b"
RED = "\x1b[31mred\x1b[0m"
TITLE_CHANGE = "\x1b]0;owned\x07"
BUILT_IN = Path(__file__).parent.parent / "questions" / "ketamine-1.1.0.yaml"


def raw_controls(text: str) -> list[str]:
    """The characters a terminal would act on, as found in `text` (none is the goal)."""
    return re.findall("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)


# -- the one cleaning function ---------------------------------------------------------------


def test_visible_spells_out_every_control_character_and_keeps_the_rest() -> None:
    assert visible(f"a{RED}\r\u202e\ud800b") == "a\\x1b[31mred\\x1b[0m\\x0d\\u202e\\ud800b"
    assert visible("Zoë\tnote\nline 2") == "Zoë\tnote\nline 2"


def test_typed_text_and_file_text_share_one_definition_of_control() -> None:
    typed = f"ab{ESC}[Dc\x07d{TITLE_CHANGE}"
    assert without_controls(typed) == "abcd0;owned"  # an OSC's text is left as text
    assert typed_note_parts(f"note {ESC}[A{ESC}[Bhere\x9b") == ["note here"]


def test_json_safe_keeps_the_data_and_escapes_what_a_terminal_obeys() -> None:
    data = {"client": f"C{ESC}[2J\x9b\u202e\ud800"}
    text = json_safe(json.dumps(data, ensure_ascii=False))
    assert raw_controls(text) == [] and "\ud800" not in text
    assert json.loads(text) == data


# -- sessions: report, list, resume ----------------------------------------------------------


def tampered_session(questionnaire: Questionnaire) -> str:
    """A saved session whose client, counselor and note carry escape sequences, as a
    hand-edited or hostile file would."""
    store = SessionStore()
    session = store.create(questionnaire, "C-1", "Sam", at="2026-11-19T09:00:00Z")
    interview = session.interview()
    interview.answer("no")
    session.record_answers(interview.answers, at="2026-11-19T09:01:00Z")
    store.save(session)
    path = store.folder / f"{session.id}.json"
    doc = json.loads(path.read_text())
    doc["client"] = f"C-1{RED}"
    doc["counselor"] = f"Sam{TITLE_CHANGE}"
    note = {"at": "2026-11-19T09:02:00Z", "text": f"note {ESC}[2J[red]x[/red] [/x]"}
    doc["general_notes"] = [note]
    doc["item_notes"] = {"use_12m": [dict(note, text=f"item note\x9b2J{ESC}[1A")]}
    path.write_text(json.dumps(doc))
    return session.id


@pytest.mark.parametrize("fmt", ["text", "md", "html", "json", "fhir"])
def test_report_shows_escape_sequences_from_the_file_without_sending_them(
    questionnaire: Questionnaire, fmt: str
) -> None:
    session_id = tampered_session(questionnaire)
    result = runner.invoke(app, ["report", session_id, "--format", fmt])
    shown = result.stdout + result.stderr
    assert ESC not in shown and "\x07" not in shown, repr(shown[:400])
    assert "Traceback" not in shown
    if result.exit_code == ExitCode.OK and fmt in ("text", "md", "html"):
        assert "C-1\\x1b" in result.stdout  # shown, so the counselor sees it
        assert "note \\x1b" in result.stdout and "item note\\x9b2J\\x1b" in result.stdout


def test_sessions_table_and_json_show_escape_sequences_visibly(
    questionnaire: Questionnaire,
) -> None:
    tampered_session(questionnaire)
    for args in (["sessions"], ["sessions", "--format", "json"]):
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
        shown = result.stdout + result.stderr
        assert raw_controls(shown) == [], (args, repr(shown[:400]))
        assert "Traceback" not in shown


def test_resuming_a_tampered_session_draws_no_escape_sequence(
    questionnaire: Questionnaire,
) -> None:
    session_id = tampered_session(questionnaire)
    result = runner.invoke(app, ["intake", "--resume", session_id, "--plain"], input="q\n")
    shown = result.stdout + result.stderr
    assert raw_controls(shown) == [], repr(shown[-600:])
    assert "Traceback" not in shown and "[/x]" not in result.stderr


def test_rich_consoles_show_control_characters_in_any_renderable() -> None:
    from io import StringIO

    from rich.table import Table

    buffer = StringIO()
    console = make_console(buffer, width=60)
    table = Table("client")
    table.add_row(f"C{RED}")
    console.print(table)
    console.print(f"note {TITLE_CHANGE}")
    assert ESC not in buffer.getvalue() and "\x07" not in buffer.getvalue()
    assert "C\\x1b[31mred" in buffer.getvalue() and "\\x1b]0;owned" in buffer.getvalue()


# -- batch stderr and file names -------------------------------------------------------------


def test_batch_messages_show_keys_ids_and_file_names_without_their_escapes(
    tmp_path: Path,
) -> None:
    name = tmp_path / f"in{ESC}[2J.jsonl"
    name.write_text(
        json.dumps({"respondent_id": f"r{ESC}[31m", "use_12m": "maybe"})
        + "\n"
        + json.dumps({f"k{ESC}]0;x\x07": "no", "use_12m": "no"})
        + "\n"
    )
    result = runner.invoke(app, ["score", str(name), "--format", "jsonl"])
    assert result.exit_code == ExitCode.INVALID_RECORDS
    assert raw_controls(result.stderr) == [] and raw_controls(result.stdout) == []
    assert "in\\x1b[2J.jsonl" in result.stderr  # the file, named visibly
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["respondent_id"] == f"r{ESC}[31m"  # the data itself is kept


def test_an_error_message_quoting_a_file_name_shows_its_escapes(tmp_path: Path) -> None:
    folder = tmp_path / f"x{ESC}[31m"
    folder.mkdir()
    bad = folder / "in.csv"
    bad.write_text("name\nx\n")
    result = runner.invoke(app, ["score", str(bad)])
    assert result.exit_code == ExitCode.ERROR
    assert ESC not in result.stderr and "x\\x1b[31m" in result.stderr


# -- markup ------------------------------------------------------------------------------


def test_markup_typed_at_the_review_is_shown_as_typed_and_never_crashes(
    questionnaire: Questionnaire,
) -> None:
    keys = keys_for(questionnaire, {"use_12m": "no", "self_harm": "no"})
    screen = run(questionnaire, ["", *keys, "[red]x[/red]", "[/x]", "", ""], plain=False)
    assert screen.result is not None
    assert '"[red]x[/red]" is not a choice here' in screen.out
    assert '"[/x]" is not a choice here' in screen.out


def test_markup_typed_in_an_intake_is_kept_as_typed_and_never_crashes(
    questionnaire: Questionnaire,
) -> None:
    keys = keys_for(questionnaire, {"use_12m": "no", "self_harm": "no"})
    typed = ["", "[/x]", "note", "[red]x[/red] [/x]", *keys, "[/x]", "q"]
    result = runner.invoke(
        app, ["intake", "--client", "C9", "--plain"], input="\n".join(typed) + "\n"
    )
    assert result.exit_code == ExitCode.OK, result.stderr
    assert '"[/x]" is not one of the choices' in result.stdout
    assert '"[/x]" is not a choice here' in result.stdout
    (path,) = SessionStore().folder.glob("*.json")
    saved = json.loads(path.read_text())
    assert saved["item_notes"]["use_12m"][0]["text"] == "[red]x[/red] [/x]"


def questionnaire_titled(tmp_path: Path, title: str) -> Path:
    text = BUILT_IN.read_text(encoding="utf-8")
    assert "\ntitle: Ketamine use self-check\n" in text
    path = tmp_path / "titled.yaml"
    path.write_text(text.replace("\ntitle: Ketamine use self-check\n", f"\ntitle: {title}\n"))
    return path


def test_show_prints_labels_and_descriptions_with_markup_as_they_are(tmp_path: Path) -> None:
    text = BUILT_IN.read_text(encoding="utf-8")
    for old, new in (
        ("      label: Prescribed use only\n", '      label: "Prescribed [/x] only"\n'),
        (
            "using. It takes about five minutes.",
            "using. [bold]It[/bold] takes about five minutes.",
        ),
    ):
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "marked.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["show", str(path)], env={"COLUMNS": "160"})
    assert result.exit_code == ExitCode.OK, result.stderr
    assert "Prescribed [/x] only" in result.stdout
    assert "[bold]It[/bold] takes" in result.stdout


# -- HTML ---------------------------------------------------------------------------------


def test_the_saved_html_copy_escapes_its_title_and_has_the_reports_csp(tmp_path: Path) -> None:
    path = questionnaire_titled(tmp_path, '"Check </title><script>alert(1)</script>"')
    q = load_questionnaire(path)
    page = result_html(q, score(q, {"use_12m": "no", "self_harm": "no"}), load_resources()["UK"])
    assert "<script>" not in page
    assert (
        "<title>Check &lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;: your result</title>"
        in page
    )
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page


def test_the_counselor_report_and_the_saved_copy_carry_the_same_csp(
    questionnaire: Questionnaire,
) -> None:
    session_id = tampered_session(questionnaire)
    report = render_report(SessionStore().load(session_id, questionnaire), ReportFormat.HTML)
    copy = result_html(
        questionnaire, score(questionnaire, {"use_12m": "no"}), load_resources()["UK"]
    )
    policy = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')
    assert policy.findall(report) == policy.findall(copy) == [CSP]


# -- FHIR messages -----------------------------------------------------------------------------


def fhir_file(tmp_path: Path, q: Questionnaire, **changes: object) -> Path:
    resource = response_to_fhir(q, score(q, {"use_12m": "no"}))
    resource.update(changes)
    path = tmp_path / "r.fhir.json"
    path.write_text(json.dumps(resource))
    return path


def test_a_free_text_canonical_is_measured_not_repeated(
    tmp_path: Path, questionnaire: Questionnaire
) -> None:
    secret = "http://example.org/Questionnaire/for Jane Doe, 12 Main St"
    path = fhir_file(tmp_path, questionnaire, questionnaire=f"{secret}|1")
    result = runner.invoke(app, ["score", str(path), "--format", "jsonl"])
    assert result.exit_code == ExitCode.INVALID_RECORDS
    assert "Jane" not in result.stdout + result.stderr
    assert f"a value of {len(secret)} characters" in result.stdout


def test_a_free_text_coding_system_is_measured_and_a_code_like_one_quoted(
    tmp_path: Path, questionnaire: Questionnaire
) -> None:
    resource = response_to_fhir(questionnaire, score(questionnaire, {"use_12m": "no"}))
    answer = resource["item"][0]["item"][0]["answer"][0]["valueCoding"]
    for system, expected in (
        ("my notes about Jane, who uses daily", "a value of 35 characters"),
        (f"urn:x{ESC}[31m", "a value of 10 characters"),
        ("http://loinc.org", "'http://loinc.org'"),
    ):
        answer["system"] = system
        path = tmp_path / "r.fhir.json"
        path.write_text(json.dumps(resource))
        result = runner.invoke(app, ["score", str(path), "--format", "jsonl"])
        error = json.loads(result.stdout)["error"]
        assert f"answer coding is from {expected}, not " in error
        assert "Jane" not in result.stdout + result.stderr and ESC not in result.stderr


def test_fhir_key_names_in_errors_are_shown_visibly(
    tmp_path: Path, questionnaire: Questionnaire
) -> None:
    resource = response_to_fhir(questionnaire, score(questionnaire, {"use_12m": "no"}))
    resource["item"][0]["item"][0]["answer"] = [{f"value{ESC}[2J": 1}]
    path = tmp_path / "r.fhir.json"
    path.write_text(json.dumps(resource))
    result = runner.invoke(app, ["score", str(path)])
    assert result.exit_code == ExitCode.INVALID_RECORDS
    assert raw_controls(result.stdout + result.stderr) == []
    assert "value\\x1b[2J" in result.stderr


def test_a_resource_type_that_is_not_text_is_described_not_dumped(
    tmp_path: Path, questionnaire: Questionnaire
) -> None:
    good = response_to_fhir(questionnaire, score(questionnaire, {"use_12m": "no"}))
    odd = {"resourceType": {"name": "Jane Doe", "note": f"{ESC}[2J"}}
    path = tmp_path / "b.fhir.json"
    path.write_text(
        json.dumps({"resourceType": "Bundle", "entry": [{"resource": odd}, {"resource": good}]})
    )
    result = runner.invoke(app, ["score", str(path), "--format", "jsonl"])
    assert result.exit_code == ExitCode.INVALID_RECORDS
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["error"].endswith("is a JSON object, not a QuestionnaireResponse")
    assert second["status"] == "ok" and "Jane" not in result.stdout + result.stderr
