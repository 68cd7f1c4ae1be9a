"""`ketscreen sessions` and `ketscreen report` as a counselor uses them."""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketscreen.cli import app
from ketscreen.core.model import Questionnaire
from ketscreen.errors import ExitCode
from ketscreen.io.session_store import SessionStore
from ketscreen.io.sessions import Session
from tests.conftest import full_answers

runner = CliRunner()
ENV = {"COLUMNS": "100"}


def make(
    questionnaire: Questionnaire,
    client: str,
    started: str,
    answers: dict[str, object] | None = None,
    *,
    counselor: str | None = "Sam",
    finish: bool = True,
) -> Session:
    store = SessionStore()
    session = store.create(questionnaire, client, counselor, at=started)
    interview = session.interview()
    for item_id, value in (answers or {}).items():
        assert interview.current is not None and interview.current.id == item_id
        interview.answer(value)
        session.record_answers(interview.answers, at=started)
    if finish:
        session.complete(at=started)
    store.save(session)
    return session


@pytest.fixture
def three(questionnaire: Questionnaire) -> list[Session]:
    return [
        make(questionnaire, "C-1", "2026-11-19T09:00:00Z", {"use_12m": "no", "self_harm": "now"}),
        make(
            questionnaire,
            "C-2",
            "2026-11-21T09:30:00Z",
            full_answers(craving="yes", tolerance="yes", cut_down_failed="declined"),
        ),
        make(questionnaire, "C-3", "2026-11-20T14:00:00Z", {"use_12m": "yes"}, finish=False),
    ]


def test_no_sessions_yet(isolated_env: Path) -> None:
    result = runner.invoke(app, ["sessions"], env=ENV)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == f"No sessions in {isolated_env / 'sessions'}.\n"
    result = runner.invoke(app, ["sessions", "--format", "json"])
    assert (result.exit_code, result.stdout) == (0, "[]\n")


def test_the_table_is_newest_first_with_band_and_top_flag(three: list[Session]) -> None:
    result = runner.invoke(app, ["sessions"], env={"COLUMNS": "140"})  # no cell wraps
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    rows = [line for line in lines if re.match(r" \d{8}-", line)]
    assert [row.split()[0] for row in rows] == [three[1].id, three[2].id, three[0].id]
    # the band as the screens say it, and its id, as the report shows it (#12)
    flat = " ".join(result.stdout.split())
    for band in ("(mild, at least)", "(incomplete)", "(no_recent_use)"):
        assert band in flat
    assert rows[0].split()[1:3] == ["C-2", "completed"]
    assert rows[1].split()[1:3] == ["C-3", "in-progress"] and "not assessed" in rows[1]
    assert rows[2].split()[1:3] == ["C-1", "completed"] and rows[2].split()[-1] == "emergency"
    assert "2026-11-21 09:30" in result.stdout
    assert "Sam" in result.stdout
    assert lines[-1] == "3 sessions, newest first."


def test_a_narrow_terminal_gets_one_block_per_session(three: list[Session]) -> None:
    result = runner.invoke(app, ["sessions", "--status", "completed"], env={"COLUMNS": "60"})
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{three[1].id}  completed",
        "  client C-2, counselor Sam",
        "  started 2026-11-21 09:30 UTC",
        "  band: Some warning signs (mild, at least)",
        "  top flag: none",
        f"{three[0].id}  completed",
        "  client C-1, counselor Sam",
        "  started 2026-11-19 09:00 UTC",
        "  band: No ketamine use in the past year (no_recent_use)",
        "  top flag: emergency",
        "2 sessions, newest first.",
    ]


def test_a_session_without_answers_has_no_result_yet(questionnaire: Questionnaire) -> None:
    make(questionnaire, "C-9", "2026-11-21T09:00:00Z", finish=False, counselor=None)
    result = runner.invoke(app, ["sessions"], env={"COLUMNS": "60"})
    assert "  client C-9, counselor -" in result.stdout
    assert "  band: no result yet\n  top flag: not assessed" in result.stdout
    assert result.stdout.endswith("1 session, newest first.\n")


def test_json_listing_and_status_filter(three: list[Session]) -> None:
    result = runner.invoke(app, ["sessions", "--format", "json", "--status", "in-progress"])
    assert result.exit_code == 0
    assert [s["client"] for s in json.loads(result.stdout)] == ["C-3"]
    everything = json.loads(runner.invoke(app, ["sessions", "--format", "json"]).stdout)
    assert [s["id"] for s in everything] == [three[1].id, three[2].id, three[0].id]
    assert everything[2]["top_flag_level"] == "emergency"
    none = runner.invoke(app, ["sessions", "--status", "stopped"])
    assert (none.exit_code, none.stderr.startswith("No stopped sessions in ")) == (0, True)


def test_a_bad_status_is_a_usage_error(three: list[Session]) -> None:
    result = runner.invoke(app, ["sessions", "--status", "done"])
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == (
        "Error: --status must be one of in-progress, completed, amended, stopped\n"
    )


@pytest.fixture
def histories(questionnaire: Questionnaire, three: list[Session]) -> dict[str, list[Session]]:
    """C-2 screened three times (one unfinished); near-misses of the label beside them."""
    again = make(questionnaire, "C-2", "2026-12-01T10:00:00Z", full_answers(craving="yes"))
    later = make(questionnaire, "C-2", "2026-12-02T11:15:00Z", {"use_12m": "yes"}, finish=False)
    for near in ("c-2", "C-20", "C-2 b"):
        make(questionnaire, near, "2026-12-03T08:00:00Z", {"use_12m": "no", "self_harm": "no"})
    return {"C-2": [later, again, three[1]], "C-1": [three[0]]}


def test_one_clients_sessions_newest_first(histories: dict[str, list[Session]]) -> None:
    result = runner.invoke(app, ["sessions", "--client", "C-2"], env={"COLUMNS": "140"})
    assert result.exit_code == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if re.match(r" \d{8}-", line)]
    assert [row[0] for row in rows] == [s.id for s in histories["C-2"]]
    assert {row[1] for row in rows} == {"C-2"}
    assert [row[2] for row in rows] == ["in-progress", "completed", "completed"]
    assert result.stdout.splitlines()[-1] == "3 sessions, newest first."
    assert result.stderr == ""
    listed = json.loads(
        runner.invoke(app, ["sessions", "--client", "C-1", "--format", "json"]).stdout
    )
    assert [(s["id"], s["client"]) for s in listed] == [(histories["C-1"][0].id, "C-1")]


def test_client_and_status_together(histories: dict[str, list[Session]]) -> None:
    args = ["sessions", "--client", "C-2", "--status", "completed", "--format", "json"]
    listed = json.loads(runner.invoke(app, args).stdout)
    assert [s["id"] for s in listed] == [s.id for s in histories["C-2"][1:]]
    assert [s["started"] for s in listed] == ["2026-12-01T10:00:00Z", "2026-11-21T09:30:00Z"]


def test_the_client_is_tidied_as_intake_tidies_it(histories: dict[str, list[Session]]) -> None:
    listed = json.loads(
        runner.invoke(app, ["sessions", "--client", "  C-2 ", "--format", "json"]).stdout
    )
    assert [s["id"] for s in listed] == [s.id for s in histories["C-2"]]


def test_no_sessions_for_a_client(histories: dict[str, list[Session]], isolated_env: Path) -> None:
    folder = isolated_env / "sessions"
    result = runner.invoke(app, ["sessions", "--client", "C-9"], env=ENV)
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == f"No sessions for client C-9 in {folder}.\n"
    result = runner.invoke(app, ["sessions", "--client", "C-1", "--status", "stopped"], env=ENV)
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == f"No stopped sessions for client C-1 in {folder}.\n"
    result = runner.invoke(app, ["sessions", "--client", "C-9", "--format", "json"])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "[]\n", "")


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("  ", "the client id is empty"),
        ("C-\x1b[2J", "the client id contains control characters; type plain text"),
    ],
)
def test_an_unusable_client_is_a_usage_error(
    three: list[Session], given: str, problem: str
) -> None:
    result = runner.invoke(app, ["sessions", "--client", given])
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert result.stderr == f"Error: --client: {problem}\n"


def test_a_damaged_file_is_named_once_and_the_rest_listed(
    three: list[Session], isolated_env: Path
) -> None:
    broken = isolated_env / "sessions" / f"{three[0].id}.json"
    broken.write_text(broken.read_text()[:100])
    result = runner.invoke(app, ["sessions", "--format", "json"])
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Warning: {broken}: cannot be used as a session: not valid")
    assert "C-1" not in result.stderr


def test_report_to_stdout(three: list[Session]) -> None:
    result = runner.invoke(app, ["report", three[1].id, "--region", "UK"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("KETAMINE USE SELF-CHECK: INTAKE REPORT\n")
    assert "Client:        C-2" in result.stdout
    assert "Samaritans" in result.stdout
    assert result.stderr == ""


def test_report_to_a_file_is_private_and_never_overwritten(
    three: list[Session], tmp_path: Path
) -> None:
    out = tmp_path / "c2.html"
    result = runner.invoke(app, ["report", three[1].id, "-o", str(out)])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == f"Report written to {out} (readable only by you).\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text().startswith("<!DOCTYPE html>")  # format from the file name
    first = out.read_bytes()

    again = runner.invoke(app, ["report", three[0].id, "-o", str(out)])
    assert again.exit_code == ExitCode.ERROR
    assert again.stderr == f"Error: {out} already exists; use --force to overwrite it\n"
    assert out.read_bytes() == first

    forced = runner.invoke(app, ["report", three[0].id, "-o", str(out), "--force", "-f", "md"])
    assert forced.exit_code == 0
    assert out.read_text().startswith("# Ketamine use self-check: intake report")


def test_report_of_a_session_file_by_path(three: list[Session], isolated_env: Path) -> None:
    path = isolated_env / "sessions" / f"{three[2].id}.json"
    result = runner.invoke(app, ["report", str(path), "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["session"]["status"] == "in-progress"


def test_report_of_an_unknown_session(isolated_env: Path) -> None:
    result = runner.invoke(app, ["report", "20261121-100000-zzzzz"])
    assert result.exit_code == ExitCode.ERROR
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: no session 20261121-100000-zzzzz in {isolated_env / 'sessions'}; "
        "list them with `ketscreen sessions`\n"
    )


def test_report_of_a_truncated_session(three: list[Session], isolated_env: Path) -> None:
    path = isolated_env / "sessions" / f"{three[1].id}.json"
    path.write_bytes(path.read_bytes()[:-200])
    before = path.read_bytes()
    result = runner.invoke(app, ["report", three[1].id])
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr.count("\n") == 1
    assert "the file is truncated or corrupted" in result.stderr
    assert "The file was left unchanged" in result.stderr
    assert path.read_bytes() == before


def test_report_of_a_session_from_another_questionnaire_version(
    three: list[Session], isolated_env: Path
) -> None:
    path = isolated_env / "sessions" / f"{three[1].id}.json"
    doc = json.loads(path.read_text())
    doc["questionnaire"]["version"] = "0.9.0"
    path.write_text(json.dumps(doc))
    result = runner.invoke(app, ["report", three[1].id])
    assert result.exit_code == ExitCode.ERROR
    assert "recorded with questionnaire ketamine 0.9.0" in result.stderr
    assert "which this ketscreen does not ship" in result.stderr


def test_report_with_the_questionnaire_it_was_recorded_with(
    three: list[Session], tmp_path: Path
) -> None:
    from ketscreen.io.questionnaires import builtin_path

    copy = tmp_path / "ketamine.yaml"
    copy.write_bytes(builtin_path().read_bytes())
    result = runner.invoke(app, ["report", three[1].id, "--questionnaire", str(copy)])
    assert result.exit_code == 0


def test_report_to_a_read_only_folder(
    three: list[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    result = runner.invoke(app, ["report", three[1].id, "-o", "/somewhere/report.txt"])
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr == (
        "Error: /somewhere/report.txt: cannot write here (permission denied or read-only); "
        "choose another place\n"
    )


def test_report_on_a_full_disk_leaves_no_file(
    three: list[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    out = tmp_path / "r.md"
    result = runner.invoke(app, ["report", three[1].id, "-o", str(out)])
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr == f"Error: {out}: the disk is full; free some space and try again\n"
    assert list(tmp_path.iterdir()) == []


def test_report_with_an_unknown_region_is_a_usage_error(three: list[Session]) -> None:
    result = runner.invoke(app, ["report", three[1].id, "--region", "XX"])
    assert result.exit_code == ExitCode.USAGE


def test_report_warns_about_an_unknown_region_variable(
    three: list[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KETSCREEN_REGION", "Atlantis")
    result = runner.invoke(app, ["report", three[1].id])
    assert result.exit_code == 0
    assert result.stderr.startswith("Warning: ")
