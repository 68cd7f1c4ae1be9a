"""Ctrl-C while batch workers start: exit 130, no traceback, no output file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import full_answers


def test_ctrl_c_while_workers_start_prints_no_traceback(tmp_path: Path) -> None:
    answers = full_answers(routes="snort")
    header = ["respondent_id", *answers]
    rows = [",".join(header)] + [
        ",".join([f"r{n}", *(str(v) for v in answers.values())]) for n in range(20_000)
    ]
    source = tmp_path / "in.csv"
    source.write_text("\n".join(rows) + "\n")
    for delay in (0.4, 0.5, 0.6):  # around the moment the workers import
        out = tmp_path / "out.csv"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ketscreen",
                "score",
                str(source),
                "--jobs",
                "2",
                "-o",
                str(out),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, as in a terminal
        )
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole group
        _, stderr = process.communicate(timeout=60)
        assert "Traceback" not in stderr, f"after {delay} s"
        assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        if process.returncode == 130:  # interrupted (the usual case)
            assert "Interrupted." in stderr
            assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]
        else:
            # 0: it finished first; -SIGINT: the signal came while the interpreter was
            # starting or shutting down, when Python's own default applies.
            assert process.returncode in (0, -signal.SIGINT)
            out.unlink(missing_ok=True)
