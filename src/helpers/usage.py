"""User mistakes and exit statuses, the same for every command (``clean``, ``code``, ``run``, ``report``).

0: done. 1: done, but some inputs failed (each named on stderr, or in a run's errors table).
2: a usage error (a missing path, an unsafe or unwritable ``--out``, a missing ``--text-column``) or
nothing usable (every input failed, or there was none): one line on stderr, never a traceback.
"""
from __future__ import annotations

EXIT_DONE = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2


class UsageError(ValueError):
    """A user mistake (a missing input, an ``--out`` that would lose data): one line, exit status 2."""


def exit_status(usable: int, failed: int) -> int:
    """The exit status of a command that made ``usable`` documents (or records) and met ``failed`` bad inputs."""
    if not usable:
        return EXIT_USAGE
    return EXIT_SOME_FAILED if failed else EXIT_DONE


def one_line(message: object) -> str:
    """``message`` as one line (line breaks folded), for stderr."""
    return " ".join(str(message).split("\n")).strip()
