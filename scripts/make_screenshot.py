"""Draw the README's picture of the result screen with the tool itself (Rich's SVG export).

    python scripts/make_screenshot.py            # writes docs/result.svg
    python scripts/make_screenshot.py --check    # exit 1 if docs/result.svg is out of date

The answers are the questionnaire's own worked example "moderate with withdrawal and
see-doctor flags", the region is UK, the time is fixed: the same picture every run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ketscreen import load_questionnaire
from ketscreen.core.interview import Interview
from ketscreen.io.resources import load_resources
from ketscreen.ui.console import recording_console
from ketscreen.ui.result_view import render_result

EXAMPLE = "moderate with withdrawal and see-doctor flags"
TARGET = Path(__file__).resolve().parent.parent / "docs" / "result.svg"


def result_svg(width: int = 80) -> str:
    questionnaire = load_questionnaire()
    example = next(e for e in questionnaire.examples if e.name == EXAMPLE)
    result = Interview(questionnaire, example.answers).result(scored_at="2026-11-21T12:00:00Z")
    console = recording_console(width)
    render_result(console, questionnaire, result, load_resources()["UK"], plain=False)
    return console.export_svg(title="ketscreen: your result")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    svg = result_svg()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != svg:
            sys.exit(f"{TARGET} is out of date: run python scripts/make_screenshot.py")
        print(f"{TARGET} is up to date")
        return
    TARGET.write_text(svg, encoding="utf-8")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
