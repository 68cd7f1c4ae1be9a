"""A batch runs with the cycle collector off (`jobs.BatchCollector`), so that the
objects a block parses are freed as they go instead of being walked again and again. The
collector still runs every COLLECT_EVERY records, and is on again when the batch ends,
however it ends: a program that scores a batch through the library keeps its collector."""

from __future__ import annotations

import gc
import io

import pytest

from ketscreen import load_questionnaire
from ketscreen.errors import KetscreenError
from ketscreen.io.batch import jobs
from ketscreen.io.batch.formats import OutputFormat
from ketscreen.io.batch.readers import Source
from ketscreen.io.batch.runner import Options, StrictStop, run_batch
from tests.batch_helpers import csv_text

Q = load_questionnaire()


def score(data: str, *, strict: bool = False) -> str:
    out = io.StringIO()
    run_batch(
        Q,
        [Source("-", None, None)],
        Options(output=OutputFormat.CSV, jobs=1, strict=strict),
        out,
        None,
        stdin=io.BytesIO(data.encode()),
        warn=lambda _: None,
    )
    return out.getvalue()


def rows(count: int, freq: str = "daily") -> str:
    return csv_text(
        ["respondent_id", "use_12m", "freq_3m"], [[f"r{n}", "yes", freq] for n in range(count)]
    )


def test_the_collector_is_off_while_scoring_and_on_again_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []
    run = jobs.Processor.run

    def spy(self: jobs.Processor, job: jobs.Job) -> jobs.JobResult:
        seen.append(gc.isenabled())
        return run(self, job)

    monkeypatch.setattr(jobs.Processor, "run", spy)
    assert gc.isenabled()
    text = score(rows(5))
    assert text.count("\n") == 6
    assert seen == [False]
    assert gc.isenabled()


def test_the_collector_runs_every_so_many_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "COLLECT_EVERY", 10)
    monkeypatch.setattr("ketscreen.io.batch.readers.BLOCK", 256)  # a few rows a job
    runs: list[int] = []
    monkeypatch.setattr(jobs.gc, "collect", lambda *a: runs.append(1) or 0)
    score(rows(100))
    assert 5 <= len(runs) <= 10


def test_the_collector_is_on_again_when_a_batch_stops() -> None:
    bad = csv_text(["respondent_id", "use_12m", "freq_3m"], [["r1", "yes", "hourly"]])
    with pytest.raises(StrictStop):
        score(bad, strict=True)
    assert gc.isenabled()
    with pytest.raises(KetscreenError):
        score("\x00not,a\nfile")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        score(rows(3))
        assert not gc.isenabled()
    finally:
        gc.enable()
