"""Ctrl-C, SIGTERM and SIGHUP: one way to stop, at any moment of a command.

The process entry point (`ketscreen.__main__.main`) calls `install()` before it imports
anything heavy. From then on each of the three signals raises KeyboardInterrupt (SIGTERM
and SIGHUP as `Stopped`, a subclass), so the code that writes files cleans up the same
way for all three: an output file is written whole or not at all, an intake session is
saved as in-progress.

Between commands, while Typer parses options and while the process shuts down, a
signal is *held* instead: Typer would turn a KeyboardInterrupt into a silent exit 130,
and one raised during shutdown would print a traceback. `live()` wraps each command:
a signal held just before it is raised as soon as the command starts, so every
interrupted command reports itself in words.

This module imports only `signal` and `contextlib`, so that installing it costs nothing.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP (a closed terminal): handled exactly like Ctrl-C."""


class _State:
    installed = False
    holding = False
    held: int | None = None


def _raise_for(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Stopped(signal.Signals(signum).name)


def _handler(signum: int, frame: FrameType | None) -> None:
    if _State.holding:
        _State.held = signum
        return
    _raise_for(signum)


def install() -> None:
    """Route the three signals through `_handler`, raising at once (until `hold()`).

    A signal that was ignored when the process started (`nohup`, a background job)
    stays ignored.
    """
    for signum in SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _handler)
    _State.installed = True


def hold() -> None:
    """From now on, keep a signal for the next `live()` instead of raising it."""
    _State.holding = True


def held() -> int | None:
    """The signal that arrived while held, if any."""
    return _State.held


@contextlib.contextmanager
def live() -> Iterator[None]:
    """Signals raise inside this block; one held before it is raised on entry."""
    if not _State.installed:  # a library caller or a test: Python's own handling applies
        yield
        return
    was_holding = _State.holding
    _State.holding = False
    try:
        pending, _State.held = _State.held, None
        if pending is not None:
            _raise_for(pending)
        yield
    finally:
        _State.holding = was_holding


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A short step that must not be cut in two (a file replaced, and its record kept):
    a signal inside it is held, and raised when the step has finished."""
    if not _State.installed:
        yield
        return
    was_holding = _State.holding
    _State.holding = True
    try:
        yield
    finally:
        _State.holding = was_holding
    if not was_holding and _State.held is not None:
        pending, _State.held = _State.held, None
        _raise_for(pending)


def quiet_exit() -> None:
    """The work is over: a signal now must not print a traceback during shutdown."""
    if not _State.installed:
        return
    for signum in SIGNALS:
        if signal.getsignal(signum) is _handler:
            signal.signal(signum, signal.SIG_IGN)


@contextlib.contextmanager
def blocked_while_forking() -> Iterator[None]:
    """Start child processes that ignore Ctrl-C, without losing a Ctrl-C meant for us.

    A terminal sends Ctrl-C (and SIGHUP when it closes) to every process of the job, the
    children too; they must not print tracebacks while they import, so they ignore both,
    and this process stops them itself. Children inherit an *ignored* signal across exec
    (a handler is reset to the default), so SIGINT and SIGHUP are ignored while the
    children are created. SIGTERM stays at its default in the children: it is how they
    are stopped. All three are also blocked here: Linux keeps a blocked signal pending
    even while it is ignored, so one that arrives meanwhile is delivered, to the
    restored handler, when the block ends. The children inherit the block too, and must
    lift it themselves once they are ready to be stopped.
    """
    sigmask = getattr(signal, "pthread_sigmask", None)
    if sigmask is not None:
        sigmask(signal.SIG_BLOCK, SIGNALS)
    previous = {
        signum: signal.signal(signum, signal.SIG_IGN)
        for signum in SIGNALS
        if signum != getattr(signal, "SIGTERM", None)
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if sigmask is not None:
            sigmask(signal.SIG_UNBLOCK, SIGNALS)
