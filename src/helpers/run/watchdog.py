"""Bounded time per document, and worker processes that end with their parent.

``time_budget`` raises ``DocumentTimeout`` in the calling thread once a budget runs out (a timer thread
sets an asynchronous exception, so it works in a worker process's main thread as in a Dask worker's
thread; like a signal, it lands between two Python bytecodes). ``budget_seconds`` gives a document a fixed
allowance plus time in proportion to its length: the chain is linear in the length of a text
(``helpers.longtext``), so only a document that is pathological in some way no test foresaw runs out,
and the run records it as an error (reason ``timeout``) and goes on.

``die_with_parent`` is the local engine's worker initializer: on Linux the kernel kills the worker when
its parent dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``), and a watchdog thread that polls the parent's
pid ends it on any platform, so a ``kill -9`` of ``helpers run`` leaves no worker writing partitions.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterator

DOC_SECONDS = 60.0
"""Fixed part of a document's time budget (``run --doc-timeout``)."""
CHARS_PER_SECOND = 20_000
"""A document's budget grows by one second per this many characters (~10x slower than a normal run)."""
PR_SET_PDEATHSIG = 1
WATCH_INTERVAL = 0.5


class DocumentTimeout(BaseException):
    """A document (or a batch of documents) ran past its time budget. A BaseException, so library code's
    ``except Exception`` cannot swallow it."""


def budget_seconds(chars: int, base: float | None = DOC_SECONDS) -> float | None:
    """The time budget of ``chars`` characters of text: ``base`` plus one second per ``CHARS_PER_SECOND``
    (None: no budget)."""
    return None if base is None else base + chars / CHARS_PER_SECOND


def _async_raise(thread_id: int, exc: type[BaseException] | None) -> None:
    """Raise ``exc`` in thread ``thread_id`` at its next bytecode (None clears a pending one)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exc) if exc is not None else None)


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Run the block with a budget of ``seconds`` (None: unbounded); past it, ``DocumentTimeout``."""
    if seconds is None:
        yield
        return
    target = threading.get_ident()
    fired = threading.Event()

    def fire() -> None:
        fired.set()
        _async_raise(target, DocumentTimeout)
    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()
        if fired.is_set():
            _async_raise(target, None)  # a timeout that fired after the block ended must not land elsewhere
    if fired.is_set():  # the block swallowed it, or it fired as the block ended: still over budget
        raise DocumentTimeout(f"over {seconds:.1f} s")


def _set_parent_death_signal() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (a no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _watch_parent(parent: int, interval: float) -> None:
    """End this process as soon as its parent is no longer ``parent`` (it died; we were re-parented)."""
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(1)


def die_with_parent(parent: int, interval: float = WATCH_INTERVAL) -> None:
    """Worker initializer: end this process when process ``parent`` dies (prctl, plus a watchdog thread)."""
    _set_parent_death_signal()
    if os.getppid() != parent:  # the parent died before the signal was set
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent, interval), daemon=True, name="watch-parent").start()
