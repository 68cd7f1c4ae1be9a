"""`ketscreen run` (and bare `ketscreen`): the self-check for a person at a terminal."""

from __future__ import annotations

import os
import sys

from ketscreen.cli.app import (
    PlainOption,
    QuestionnaireOption,
    RegionOption,
    app,
    handle_errors,
    warn,
)


@app.command("run")
@handle_errors
def run(
    region: RegionOption = None,
    plain: PlainOption = False,
    questionnaire: QuestionnaireOption = None,
) -> None:
    """Answer the self-check one question at a time and see your result (the default).

    Type a number and press Enter; b goes back, s is prefer not to say, ? is help and
    q stops (exit 0). Nothing is saved unless you ask for a copy of the result. Ctrl-C
    exits 130; end of input before the result exits 1.
    """
    from ketscreen.io.questionnaires import load_questionnaire
    from ketscreen.io.resources import choose_region, load_resources
    from ketscreen.ui.console import make_console
    from ketscreen.ui.screener import run_screener
    from ketscreen.ui.terminal import Terminal, want_plain

    choice = choose_region(region, os.environ)
    if choice.warning:
        warn(choice.warning)
    loaded = load_questionnaire(questionnaire)
    is_plain = want_plain(plain, os.environ, sys.stdin, sys.stdout)
    terminal = Terminal(make_console(plain=is_plain), sys.stdin, plain=is_plain)
    run_screener(terminal, loaded, load_resources()[choice.code], choice)
