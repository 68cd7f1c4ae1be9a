"""Run a batch: inputs -> jobs -> (worker processes) -> output in input order, and a summary.

Output files are written atomically (`atomic_write`): they appear whole when the batch
succeeds and not at all otherwise, including on Ctrl-C. With `--strict` and no `-o`,
output is held back (in memory, then in an unnamed temporary file) until the last record
is known to be valid, so nothing reaches stdout on failure either.

Worker processes (`Options.jobs`, or automatic for large inputs) are started with the
"spawn" method, which works the same on every platform and with threads running (the
progress bar). A script that calls `run_batch` with workers must therefore do so under
`if __name__ == "__main__":`, as multiprocessing requires for spawn.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import queue
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO

from ketscreen.core.compiled import field_name, invalid_row
from ketscreen.core.model import Questionnaire
from ketscreen.errors import KetscreenError
from ketscreen.interrupts import SIGNALS, blocked_while_forking
from ketscreen.io.atomic import atomic_write, check_writable_target
from ketscreen.io.batch.formats import Engine, InputError, OutputFormat, UsageProblem
from ketscreen.io.batch.jobs import BatchCollector, CsvJob, Job, JobResult, Processor
from ketscreen.io.batch.readers import Source, read_jobs
from ketscreen.io.batch.versions import VersionSet
from ketscreen.io.batch.writers import Writer, writer_for

PARALLEL_MIN_BYTES = 24 << 20
"""Below this much input (about 175,000 full CSV records), workers cost more than they save."""
MAX_AUTO_WORKERS = 4
SPOOL_BYTES = 32 << 20


class StrictStop(KetscreenError):
    """--strict met an invalid record (exit 1; nothing was written)."""


@dataclass(frozen=True)
class Options:
    output: OutputFormat = OutputFormat.CSV
    errors: OutputFormat | None = None
    """The format of the --errors file, when there is one."""
    explain: bool = False
    strict: bool = False
    verify: bool = False
    """FHIR input: a response whose stored scores differ from the recomputed is invalid."""
    delimiter: str | None = None
    jobs: int = 0
    """Worker processes; 0 chooses by input size and processor count."""
    raw_csv: bool = False
    """CSV output cells exactly as read: no quote before a formula start (`--raw-csv`)."""
    accept_unversioned: bool = False
    """FHIR input: a `questionnaire` canonical without `|version` is read with the one
    version chosen (`--accept-unversioned`), instead of being invalid."""
    engine: Engine = Engine.DEFAULT
    """DuckDB: the records of CSV and Parquet inputs scored by the exported SQL
    (`duckdb_engine`); the output is the same."""


@dataclass
class Summary:
    records: int = 0
    invalid: int = 0
    bands: Counter[str] = field(default_factory=Counter)
    levels: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 1
    notes: list[str] = field(default_factory=list)
    """Records read in a way they did not say exactly (the first 10)."""
    noted: int = 0
    verified: int = 0
    """--verify: responses compared with their stored result."""
    unstored: Counter[str] = field(default_factory=Counter)
    """--verify: per result key, how many responses did not store it (recomputed)."""

    def add(self, result: JobResult) -> None:
        self.records += result.records
        self.invalid += result.invalid
        self.bands.update(result.bands)
        self.levels.update(result.levels)
        room = 10 - len(self.problems)
        if room > 0:
            self.problems.extend(result.problems[:room])
        self.notes.extend(result.notes[: max(0, 10 - len(self.notes))])
        self.noted += result.noted
        self.verified += result.verified
        self.unstored.update(result.unstored)


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(options: Options, sources: Sequence[Source]) -> int:
    if options.jobs:
        return options.jobs
    sizes = [source.size for source in sources]
    if any(size is None for size in sizes) or sum(s or 0 for s in sizes) < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(available_cpus(), MAX_AUTO_WORKERS))


def score_files(
    questionnaire: Questionnaire | VersionSet,
    sources: Sequence[Source],
    options: Options,
    *,
    output: Path | None,
    errors: Path | None,
    force: bool,
    stdin: BinaryIO,
    stdout: TextIO,
    warn: Callable[[str], None],
    advance: Callable[[int], None] = lambda _: None,
) -> Summary:
    """Score every record of `sources`; write `output` (or stdout) and `errors`."""
    for path in (output, errors):
        if path is not None:
            check_writable_target(path, force=force)
    if output is not None and errors is not None and output.resolve() == errors.resolve():
        raise UsageProblem("-o and --errors name the same file; give two names")
    with contextlib.ExitStack() as stack:
        if output is not None:
            out: IO[str] = stack.enter_context(atomic_write(output, force=force, newline=""))
        elif options.strict:
            out = stack.enter_context(_held_back(stdout))
        else:
            out = stdout
        bad = None
        if errors is not None:
            bad = stack.enter_context(atomic_write(errors, force=force, newline=""))
        return run_batch(
            questionnaire,
            sources,
            options,
            out,
            bad,
            stdin=stdin,
            warn=warn,
            advance=advance,
            kept_when_stopped=output is None,
        )


@contextlib.contextmanager
def _held_back(stdout: TextIO) -> Iterator[IO[str]]:
    """A text buffer copied to stdout only when the block succeeds."""
    with tempfile.SpooledTemporaryFile(
        SPOOL_BYTES, mode="w+", encoding="utf-8", newline=""
    ) as buffer:
        yield buffer
        buffer.seek(0)
        shutil.copyfileobj(buffer, stdout)
        stdout.flush()


def run_batch(
    questionnaire: Questionnaire | VersionSet,
    sources: Sequence[Source],
    options: Options,
    out: IO[str],
    errors_out: IO[str] | None,
    *,
    stdin: BinaryIO,
    warn: Callable[[str], None],
    advance: Callable[[int], None] = lambda _: None,
    kept_when_stopped: bool = True,
) -> Summary:
    """Score `sources` into `out`. An input that cannot be read after some output was
    written ends the output with a record saying so, unless `kept_when_stopped` is False
    (an `-o` file, which is then discarded whole)."""
    started = time.perf_counter()
    versions = questionnaire if isinstance(questionnaire, VersionSet) else VersionSet(questionnaire)
    summary = Summary(workers=worker_count(options, sources))
    writer = writer_for(options.output, versions, raw_csv=options.raw_csv)
    bad_writer = writer_for(options.errors or options.output, versions, raw_csv=options.raw_csv)
    union = versions.union_items()
    items = {item_id: i for i, item_id in enumerate(union)}
    unknown: dict[str, set[str]] = {}
    """Keys that are not items, per input: one warning each, when the batch ends."""
    hinted: set[str] = set()
    reading = ""

    def hint(job: Job) -> None:
        """One warning per CSV input whose columns fit an older version, not the default."""
        if not isinstance(job, CsvJob) or job.source in hinted:
            return
        hinted.add(job.source)
        if job.plan.version is None:
            message = versions.fit_hint([union[i] for _, i in job.plan.columns])
            if message:
                warn(f"{job.source}: {message}")

    def all_jobs() -> Iterator[Job]:
        for source in sources:
            yield from jobs_of(source)

    def jobs_of(source: Source) -> Iterator[Job]:
        nonlocal reading
        reading = source.label
        with contextlib.ExitStack() as stack:
            if source.path is None:
                stream: BinaryIO | None = stdin
            elif source.path.is_dir():
                stream = None
            else:
                stream = stack.enter_context(_open(source))
            try:
                for job in read_jobs(
                    source,
                    stream,
                    items,
                    delimiter=options.delimiter,
                    warn=warn,
                    advance=advance,
                ):
                    hint(job)
                    yield job
            except OSError as exc:  # a reading problem, not the output's (atomic_write)
                raise InputError(
                    f"{source.label}: cannot be read ({exc.strerror or exc})"
                ) from None

    sink = _sink(out, writer)
    bad_sink = _sink(errors_out, bad_writer) if errors_out else None
    setup = (
        versions,
        options.output,
        options.explain,
        options.errors,
        options.verify,
        options.raw_csv,
        options.accept_unversioned,
    )
    results = _results(all_jobs(), summary.workers, setup)
    if options.engine is Engine.DUCKDB:
        from ketscreen.io.batch.duckdb_engine import duckdb_results

        def fallback(source: Source) -> Iterator[JobResult]:
            return _results(jobs_of(source), 1, setup)

        def begin(source: Source) -> None:
            nonlocal reading
            reading = source.label

        results = duckdb_results(
            versions,
            sources,
            options,
            items,
            fallback,
            warn=warn,
            advance=advance,
            hint=hint,
            started=begin,
        )
    collector = BatchCollector()
    try:
        try:
            for result in results:
                collector.tick(result.records)
                summary.add(result)
                if options.strict and result.invalid:
                    raise StrictStop(
                        f"{result.problems[0]} (--strict: stopped here; nothing was written)"
                    )
                sink.block(result.text, result.records)
                if bad_sink is not None:
                    bad_sink.block(result.errors_text, result.invalid)
                for name, keys in result.unknown.items():
                    unknown.setdefault(name, set()).update(keys)
        except StrictStop:
            raise
        except KetscreenError as exc:
            _warn_unknown(unknown, warn)
            # An input that cannot be read at all. Before any output: nothing is written
            # (exit 1). After some: the output is closed with a last record saying where
            # and why it stops, so that a half-written stdout is never taken for whole.
            if not sink.wrote_header:
                raise
            if not kept_when_stopped:
                stopped = InputError(f"{exc}; nothing was written")
                stopped.exit_code = exc.exit_code
                raise stopped from None
            stop = invalid_row("", reading, f"the batch stopped here, unfinished: {exc}")
            sink.block(writer.encoded([stop]), 1)
            sink.close()
            stopped = InputError(f"{exc}; the output ends with a record saying where it stopped")
            stopped.exit_code = exc.exit_code
            raise stopped from None
        _warn_unknown(unknown, warn)
        sink.close()
        if bad_sink is not None:
            bad_sink.close()
    except BaseException:
        # Whatever stops the batch (a write that failed, Ctrl-C, --strict, an input that
        # cannot be read): blocks still waiting to be written are dropped, threads end.
        sink.abort()
        if bad_sink is not None:
            bad_sink.abort()
        raise
    finally:
        collector.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _warn_unknown(unknown: dict[str, set[str]], warn: Callable[[str], None]) -> None:
    """One warning per input, naming every key it holds that is not an item (ten, and
    how many more)."""
    for name, keys in unknown.items():
        shown = sorted(field_name(key) for key in keys)
        more = f" and {len(shown) - 10} more" if len(shown) > 10 else ""
        warn(f"{name}: ignoring unknown keys: {', '.join(shown[:10])}{more}")


def _sink(stream: IO[str], writer: Writer) -> _Sink:
    """The sink for `writer`: text blocks, or Parquet's own."""
    if writer.binary:
        from ketscreen.io.batch.parquet import ParquetSink, ParquetWriter

        assert isinstance(writer, ParquetWriter)
        return ParquetSink(stream, writer)  # type: ignore[return-value]
    return _Sink(stream, writer)


class _Writes:
    """Writes bytes to a binary stream from a thread of its own, so that writing (and the
    disk's write-back, for an output of gigabytes) overlaps with scoring the next block.

    At most one block waits while another is written. A write that fails is raised by
    every later `write`, and by `finish`; `abort` drops what waits. The thread starts with
    the first write, and `finish` (or `abort`) ends it, before the stream is closed.

    Into a regular file, what is written is also synced every SYNC_BYTES: the disk then
    writes as the batch goes (a file of gigabytes would otherwise sit in memory until
    the kernel throttles every write, and the final fsync would wait for all of it).
    """

    SYNC_BYTES = 64 << 20

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.waiting: queue.Queue[bytes | None] = queue.Queue(maxsize=1)
        self.thread: threading.Thread | None = None
        self.failed: BaseException | None = None
        self.dropping = False
        self.unsynced = 0
        self.fd: int | None = None
        with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
            fd = raw.fileno()
            if stat.S_ISREG(os.fstat(fd).st_mode):
                self.fd = fd

    def write(self, data: bytes) -> None:
        self._raise()
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="ketscreen-output", daemon=True)
            self.thread.start()
        self.waiting.put(data)

    def _run(self) -> None:
        while True:
            data = self.waiting.get()
            if data is None:
                return
            if self.failed is None and not self.dropping:
                try:
                    self.raw.write(data)
                    self._sync(len(data))
                except BaseException as exc:  # raised in the scoring thread
                    self.failed = exc

    def _sync(self, size: int) -> None:
        self.unsynced += size
        if self.fd is not None and self.unsynced >= self.SYNC_BYTES:
            self.raw.flush()
            getattr(os, "fdatasync", os.fsync)(self.fd)
            self.unsynced = 0

    def _raise(self) -> None:
        """Raise the write that failed, at every write after it too (as the stream
        itself would fail again): nothing is written after a failed write."""
        if self.failed is not None:
            self.dropping = True
            raise self.failed

    def finish(self) -> None:
        """Wait until everything is written; raise a write that failed."""
        if self.thread is not None:
            self.waiting.put(None)
            self.thread.join()
            self.thread = None
        self._raise()

    def abort(self) -> None:
        """Drop what waits and end the thread (after the write under way, if it ends)."""
        self.dropping = True
        if self.thread is not None:
            with contextlib.suppress(queue.Empty):
                while True:
                    self.waiting.get_nowait()
            with contextlib.suppress(queue.Full):
                self.waiting.put_nowait(None)
            self.thread.join(timeout=5)  # a write to a pipe nobody reads may never end
            self.thread = None


class _Sink:
    """Writes a writer's header, UTF-8 blocks of records with separators, and its footer
    to a text stream, straight to its binary layer when it has one (from a thread of its
    own, `_Writes`).

    A writer whose lone record is written differently (FHIR: a bare resource, several
    are a Bundle) starts only once it is known whether the first record is alone.
    """

    def __init__(self, stream: IO[str], writer: Writer) -> None:
        self.stream = stream
        raw: BinaryIO | None = getattr(stream, "buffer", None)
        self.raw = _Writes(raw) if raw is not None else None
        self.writer = writer
        self.separator = writer.separator.encode()
        self.wrote = False
        self.held: bytes | None = None
        self.started = False
        """Whether the header is written (it waits for the first record, so that an input
        that cannot be read leaves no header-only output)."""

    @property
    def wrote_header(self) -> bool:
        return self.started

    def text(self, text: str) -> None:
        if self.raw is not None:
            self.raw.write(text.encode())
        else:
            self.stream.write(text)

    def block(self, data: bytes, records: int) -> None:
        """A block of records, after a separator when records came before."""
        if not data:
            return
        if not self.started:
            if self.writer.single_differs and self.held is None and records == 1:
                self.held = data  # maybe the only record: wait and see
                return
            self.text(self.writer.header())
            self.started = True
            if self.held is not None:
                self.text(self.held.decode())
                self.held = None
                self.wrote = True
        for part in (self.separator if self.wrote else b"", data):
            if self.raw is not None:
                self.raw.write(part)
            else:
                self.stream.write(part.decode())
        self.wrote = True

    def close(self) -> None:
        """The footer, or the whole output of a writer that waited (one record, or none)."""
        if self.held is not None:
            self.text(self.writer.alone(self.held.decode()))
        elif not self.started:
            single = self.writer.single_differs
            self.text(self.writer.empty() if single else self.writer.header())
            if not single:
                self.text(self.writer.footer(False))
        else:
            self.text(self.writer.footer(self.wrote))
        if self.raw is not None:
            self.raw.finish()

    def abort(self) -> None:
        """Stop writing (the batch stops): what waits is dropped."""
        if self.raw is not None:
            self.raw.abort()


def _open(source: Source) -> BinaryIO:
    assert source.path is not None
    try:
        return source.path.open("rb")
    except OSError as exc:
        raise KetscreenError(f"{source.name}: cannot be read ({exc.strerror})") from None


Setup = tuple[VersionSet, OutputFormat, bool, "OutputFormat | None", bool, bool, bool]


def _results(jobs: Iterable[Job], workers: int, setup: Setup) -> Iterator[JobResult]:
    """Each job's result, in job order; with workers, a few jobs are done ahead."""
    if workers <= 1:
        processor = _processor(setup)
        for job in jobs:
            yield processor.run(job)
        return
    context = multiprocessing.get_context("spawn")
    _quiet_resource_tracker()
    pool = None
    try:
        # Workers start ignoring Ctrl-C, so a Ctrl-C while they import prints no
        # traceback; one that arrives meanwhile reaches this process right after.
        with blocked_while_forking():
            try:
                pool = context.Pool(workers, initializer=_start_worker, initargs=(setup,))
            except OSError as exc:
                raise KetscreenError(
                    f"cannot start worker processes ({exc.strerror or exc}); try --jobs 1"
                ) from None
        pending: deque[Any] = deque()
        try:
            for job in jobs:
                pending.append(pool.apply_async(_work, (job,)))
                if len(pending) > 2 * workers:
                    yield pending.popleft().get()
        except KetscreenError:  # an input cannot be read: first the records read before it
            while pending:
                yield pending.popleft().get()
            raise
        while pending:
            yield pending.popleft().get()
        pool.close()
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()


def _quiet_resource_tracker() -> None:
    """Start multiprocessing's resource tracker quietly: SIGHUP ignored, stderr silent.

    The tracker is a helper process that removes the pool's semaphores if this process
    is killed outright (SIGKILL). It ignores Ctrl-C by itself, but a closed terminal's
    SIGHUP would kill it, and the tracker started again in its place prints tracebacks;
    and after a SIGKILL it would print a warning on the person's terminal long after
    ketscreen's own last word. Its cleaning up is all we want from it.
    """
    from multiprocessing import resource_tracker

    saved = os.dup(2)
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
        with blocked_while_forking():
            resource_tracker.ensure_running()
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _processor(setup: Setup) -> Processor:
    questionnaire, output, explain, errors, verify, raw_csv, unversioned = setup
    return Processor(
        questionnaire,
        output,
        explain=explain,
        errors=errors,
        verify=verify,
        raw_csv=raw_csv,
        accept_unversioned=unversioned,
    )


_WORKER: Processor | None = None


def _start_worker(setup: Setup) -> None:  # pragma: no cover - runs in a worker process
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C
    # A process group of its own: a signal for the whole job (Ctrl-C, `kill -TERM -PGID`,
    # a closed terminal) reaches only the main process, which stops its workers itself.
    # A worker killed by such a signal while it held the pool's queue lock would leave
    # `Pool.terminate()` waiting for that lock for ever.
    os.setpgid(0, 0)
    _die_with_parent()
    # The signals blocked while this process was started (`blocked_while_forking`)
    # are still blocked here: SIGTERM is how the main process stops its workers. (One
    # already pending, from the main process or for the whole job, ends this worker
    # now, before it takes any of the pool's locks.)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
    _WORKER = _processor(setup)


def _die_with_parent() -> None:  # pragma: no cover - runs in a worker process
    """Linux: end this worker when the main process ends, however it ends.

    Without it, a main process killed outright (SIGKILL) leaves its workers to fail on
    the closed pipe with tracebacks on the person's terminal.
    """
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the main process ended before the line above
        os._exit(0)


def _work(job: Job) -> JobResult:  # pragma: no cover - runs in a worker process
    assert _WORKER is not None
    return _WORKER.run(job)
