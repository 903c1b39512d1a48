"""Files written whole or not at all, files read without trusting them, OS errors as one-line reasons.

Every metadata and table file of a run goes through ``write_atomic``: the bytes go to a temporary file
in the same folder (``<name>.tmp``, so a run can find and remove it), are flushed to disk (``fsync``),
and only then replace the target with ``os.replace``, an atomic rename: a kill or a full disk leaves the
old file or the new one, never half of one. ``read_json`` reads such a file back and returns None for a
file that is missing, torn or not a JSON object, so a caller treats it as "not done" instead of crashing.
"""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Callable

TMP_SUFFIX = ".tmp"


def tmp_path(path: Path) -> Path:
    """The temporary file ``write_atomic`` writes before renaming it to ``path`` (same folder)."""
    return path.with_name(path.name + TMP_SUFFIX)


def fsync_file(path: Path) -> None:
    """Flush a written file's bytes to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (a rename in it) to disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> None:
    """Make ``path`` by ``write(temporary path)``, fsync, rename: readers see the old file or the whole new one."""
    path = Path(path)
    tmp = tmp_path(path)
    try:
        write(tmp)
        fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """``write_atomic`` of a byte string."""
    write_atomic(path, lambda tmp: tmp.write_bytes(data))


def write_json_atomic(path: str | os.PathLike, obj: dict) -> None:
    """``write_atomic`` of a JSON object (sorted keys, UTF-8)."""
    write_bytes_atomic(path, json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=False).encode("utf-8"))


def read_json(path: str | os.PathLike) -> dict | None:
    """A JSON object file's content; None when it is missing, unreadable, torn or not an object."""
    try:
        data = json.loads(Path(path).read_bytes().decode("utf-8"))
    except (OSError, ValueError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None
    return data if isinstance(data, dict) else None


def os_reason(exc: OSError, path: str | os.PathLike | None = None) -> str:
    """One-line reason an input at ``path`` cannot be read: a broken or looping link, a missing or unreadable file."""
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.ENOENT:
        if path is not None and os.path.islink(path):
            return f"broken symbolic link (to {os.readlink(path)})"
        return "no such file or folder"
    return f"unreadable ({exc.strerror or exc})"


def display_path(path: str | os.PathLike) -> str:
    """An absolute path for messages, resolved where possible (a symbolic-link loop is left unresolved)."""
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError on a link loop
        return str(Path(path).absolute())
