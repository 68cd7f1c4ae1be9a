"""The self-check's saved web page, opened and printed by a real browser (#12, point 7).

Headless Chromium prints the page to PDF and dumps its DOM: what a person printing
their result, or a screen reader, gets. The browser comes from `scripts/install-browser`.
Without it the test fails when CI is set, and is skipped (saying why) otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ketscreen.core.interview import Interview
from ketscreen.core.model import Questionnaire
from ketscreen.io.resources import load_resources
from ketscreen.ui.result_view import result_html
from tests.helpers import unavailable

BROWSER_TIMEOUT = 180  # seconds: a cold start on a busy 2-core machine is slow
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def _tools() -> tuple[str, str, str]:
    found = {name: shutil.which(name) for name in ("chromium", "pdftotext", "pdfinfo")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        message = f"{', '.join(missing)} not installed: run scripts/install-browser"
        unavailable(message)
    return found["chromium"] or "", found["pdftotext"] or "", found["pdfinfo"] or ""


def _browser(chromium: str, tmp_path: Path, *args: str) -> str:
    profile = tmp_path / "profile"
    done = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=BROWSER_TIMEOUT,
        env={**os.environ, "HOME": str(tmp_path)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def heavy_page(questionnaire: Questionnaire, tmp_path: Path) -> Path:
    """The worked example "severe with urgent flags" with self_harm = now, as saved."""
    example = next(e for e in questionnaire.examples if e.name == "severe with urgent flags")
    answers = {**example.answers, "self_harm": "now"}
    result = Interview(questionnaire, answers).result(scored_at="2026-11-21T12:00:00Z")
    page = tmp_path / "result.html"
    page.write_text(result_html(questionnaire, result, load_resources()["UK"]), encoding="utf-8")
    return page


def test_the_saved_page_prints_as_a_structured_document(heavy_page: Path, tmp_path: Path) -> None:
    chromium, pdftotext, pdfinfo = _tools()
    pdf = tmp_path / "result.pdf"
    _browser(
        chromium, tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", heavy_page.as_uri()
    )
    info = subprocess.run([pdfinfo, str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert 1 <= pages <= 4  # a result, not a wall of characters
    text = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert not re.search("[╭╮╰╯│━┃─]", text)  # no box drawing: real headings and lists
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # what matters most comes first, in the screen's order
    order = [
        lines.index("Support is available now"),
        lines.index("Get medical advice today"),
        lines.index("Your result"),
        lines.index("Warning signs you reported"),
        lines.index("Services and helplines: United Kingdom"),
    ]
    assert order == sorted(order)
    assert lines[0] == "Ketamine use self-check: your result"
    # list items are items, each on its own line, not wrapped into one paragraph
    assert "Samaritans: Call 116 123 (24/7, free)" in lines
    assert "Yellow skin or yellow eyes" in lines
    assert "This is a screening tool, not a diagnosis." in " ".join(lines)


def test_the_saved_page_is_html_a_browser_reads_as_headings_and_lists(
    heavy_page: Path, tmp_path: Path
) -> None:
    chromium, _, _ = _tools()
    dom = _browser(chromium, tmp_path, "--dump-dom", heavy_page.as_uri())
    assert re.search(r'<html lang="en"', dom)
    assert "<pre" not in dom
    headings = re.findall(r"<h2>(.*?)</h2>", dom)
    assert headings[:3] == ["Support is available now", "Get medical advice today", "Your result"]
    assert dom.count("<li>") >= 20
    assert "<table>" in dom and '<th scope="col">Service</th>' in dom
    assert "@media print" in dom  # the counselor report's print styles


def test_without_the_browser_ci_fails_and_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="run scripts/install-browser"):
        _tools()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="run scripts/install-browser"):
        _tools()


def test_the_install_script_is_there_and_fails_loudly() -> None:
    script = Path(__file__).resolve().parent.parent / "scripts" / "install-browser"
    text = script.read_text(encoding="utf-8")
    assert os.access(script, os.X_OK)
    assert "set -euo pipefail" in text and "apt-get install" in text
    assert "chromium" in text and "poppler-utils" in text
