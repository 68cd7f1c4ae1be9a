"""A battery intake (#14, point 2): `ketscreen intake --client C --instrument ketamine
--instrument sds` asks both in one sitting, with one review and one result screen; each
instrument is saved in its own session file, linked, in the unchanged format."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ketscreen import load_questionnaire
from ketscreen.cli import app
from ketscreen.core.battery import BatteryError, combine
from ketscreen.errors import ExitCode
from tests.conftest import SDS_ANSWERS, full_answers
from tests.test_intake import ENV, SAFETY_NOTE, intake, keys_for, said

runner = CliRunner()
KETAMINE = load_questionnaire()
SDS = load_questionnaire(instrument="sds")
BOTH = combine((KETAMINE, SDS))
ARGS = ("--client", "C-0042", "--instrument", "ketamine", "--instrument", "sds")


def _sessions(home: Path) -> list[dict[str, Any]]:
    docs = [json.loads(p.read_text()) for p in (home / "sessions").glob("*.json")]
    return sorted(docs, key=lambda d: d["battery"]["sessions"].index(d["id"]))


def test_a_battery_is_one_sitting_saved_as_one_linked_file_per_instrument(
    isolated_env: Path,
) -> None:
    answers = {
        **full_answers(craving="yes", tolerance="yes", self_harm="past_month"),
        **SDS_ANSWERS,
    }
    typed = keys_for(BOTH, answers)
    typed[-1:-1] = ["a", "Finds weekends hardest"]  # a note on the last SDS question
    result = intake(*ARGS, lines=["", *typed, "", "", "Come back in four weeks"])
    assert result.exit_code == 0, result.stdout[-3000:]
    shown = said(result)
    # one review of every answer of both instruments, then one result screen
    assert shown.count("Check the client's answers") == 1
    review = shown.split("Check the client's answers", 1)[1]
    assert "Use felt out of control: Often" in review and "Strong cravings or urges" in review
    result_screen = shown.split("Check the client's answers", 1)[1]
    first = result_screen.index("1 of 2: Ketamine use self-check")
    second = result_screen.index("2 of 2: Severity of Dependence Scale (SDS) for ketamine")
    assert first < second
    assert "SDS total (0 to 15; higher means more signs of dependence): 10" in result_screen
    assert "Support is available now" in result_screen[:second]  # the crisis panel first
    # the services and the disclaimer once, after the last result
    assert result_screen.count("Only a trained professional can diagnose") == 1
    assert result_screen.index("Samaritans: Call 116 123", second) > second

    ketamine, sds = _sessions(isolated_env)
    assert ketamine["battery"] == sds["battery"]
    assert ketamine["battery"]["instruments"] == ["ketamine 1.1.0", "sds 1.0.0"]
    assert ketamine["battery"]["id"] == ketamine["id"]
    assert (ketamine["questionnaire"]["id"], sds["questionnaire"]["id"]) == ("ketamine", "sds")
    assert set(sds["answers"]) == set(SDS_ANSWERS)
    assert not set(ketamine["answers"]) & set(SDS_ANSWERS)
    assert ketamine["status"] == sds["status"] == "completed"
    assert ketamine["result"]["top_flag_level"] == "crisis"
    assert sds["result"]["sds_total"] == 10
    # the safety note goes with the question that raised it
    assert [n["text"] for n in ketamine["safety_notes"]] == [SAFETY_NOTE]
    assert sds["safety_notes"] == []
    assert [n["text"] for n in sds["item_notes"]["sds_difficulty"]] == ["Finds weekends hardest"]
    assert ketamine["item_notes"] == {}
    assert ketamine["next_steps"]["text"] == sds["next_steps"]["text"] == "Come back in four weeks"

    text = runner.invoke(app, ["report", sds["id"]]).stdout
    assert f"Battery: 2 of 2, with {ketamine['id']} (ketamine 1.1.0)" in " ".join(text.split())
    # every other command reads each file as any session
    for doc in (ketamine, sds):
        report = runner.invoke(app, ["report", doc["id"], "--format", "json"])
        assert report.exit_code == 0, report.stderr
        assert json.loads(report.stdout)["questionnaire"]["id"] == doc["questionnaire"]["id"]
    listed = runner.invoke(app, ["sessions", "--client", "C-0042", "--format", "json"])
    assert len(json.loads(listed.stdout)) == 2


def test_a_battery_interrupted_resumes_whole(isolated_env: Path) -> None:
    answers = {**full_answers(), **SDS_ANSWERS}
    typed = keys_for(BOTH, answers)
    stopped = intake(*ARGS, lines=["", *typed[:-3]])  # input ends in the SDS questions
    assert stopped.exit_code == ExitCode.ERROR
    ketamine, sds = _sessions(isolated_env)
    assert ketamine["status"] == sds["status"] == "in-progress"
    assert len(sds["answers"]) == 2  # nothing typed was lost

    resumed = intake("--resume", sds["id"], lines=["", *typed[-3:], "", ""])
    assert resumed.exit_code == 0, resumed.stdout[-3000:]
    assert "A battery of 2 questionnaires" in said(resumed)
    ketamine, sds = _sessions(isolated_env)
    assert ketamine["status"] == sds["status"] == "completed"
    assert len(sds["answers"]) == 5


def test_a_battery_link_edited_to_another_clients_session_is_refused(
    isolated_env: Path,
) -> None:
    typed = keys_for(BOTH, {**full_answers(), **SDS_ANSWERS})
    intake(*ARGS, lines=["", *typed[:3], "q"])
    ketamine, _ = _sessions(isolated_env)
    other = intake("--client", "C-0099", lines=["", "3", "q"])
    assert other.exit_code == 0
    stranger = next(
        p for p in (isolated_env / "sessions").glob("*.json") if "C-0099" in p.read_text()
    )
    path = isolated_env / "sessions" / f"{ketamine['id']}.json"
    ketamine["battery"]["sessions"] = [ketamine["id"], stranger.stem]
    path.write_text(json.dumps(ketamine))
    before = stranger.read_bytes()
    result = intake("--resume", ketamine["id"], lines=[""])
    assert result.exit_code == ExitCode.ERROR
    assert f"session {stranger.stem} does not belong to the battery" in result.stderr
    assert "C-0099" not in result.stderr  # no client label in an error message
    assert stranger.read_bytes() == before


def test_q_stops_every_part(isolated_env: Path) -> None:
    typed = keys_for(BOTH, {**full_answers(), **SDS_ANSWERS})
    result = intake(*ARGS, lines=["", *typed[:3], "q"])
    assert result.exit_code == 0
    assert [d["status"] for d in _sessions(isolated_env)] == ["stopped", "stopped"]


def test_battery_usage_errors(isolated_env: Path, tmp_path: Path) -> None:
    twice = intake("--client", "C-1", "--instrument", "sds", "--instrument", "sds", lines=[])
    assert twice.exit_code == ExitCode.USAGE
    assert "an --instrument is given twice" in twice.stderr
    with_file = intake(
        "--client", "C-1", "--instrument", "ketamine", "--instrument", "sds",
        "--questionnaire", str(tmp_path / "x.yaml"), lines=[],
    )  # fmt: skip
    assert with_file.exit_code == ExitCode.USAGE
    assert "a battery uses installed instruments" in with_file.stderr
    assert not (isolated_env / "sessions").exists()


def test_instruments_that_share_an_id_cannot_be_combined() -> None:
    with pytest.raises(BatteryError, match="named twice"):
        combine((KETAMINE, load_questionnaire(version="1.0.0")))
    with pytest.raises(BatteryError, match="both have a question 'use_12m'"):
        combine((KETAMINE, replace(KETAMINE, id="other")))
    with pytest.raises(BatteryError, match="two or more"):
        combine((KETAMINE,))


def test_the_battery_option_is_documented() -> None:
    result = runner.invoke(app, ["intake", "--help"], env=ENV)
    assert "Give it more than once for a battery" in " ".join(result.stdout.split())
