"""Private files and directories, whatever the caller's umask.

What TablePay writes holds payment data, token hashes and secrets, so a file is
created 0600 and a directory 0700 *by the call that creates it*: a file written
first and chmodded after is readable by others in between, and stays readable
if the process dies before the chmod. Files another library creates (SQLite's
database, -wal and -shm) are covered twice: the database file is made here
before SQLite opens it (SQLite gives -wal and -shm the database file's mode),
and the commands that run a server set the process umask to PRIVATE_UMASK at
start, so whatever else gets created follows.

Things that exist already are left as they are: an operator who made the data
dir 0750 for a backup group meant it.

A package of its own, importing nothing of ours, so the service, the kiosk, the
sandbox and the `tablepay` command can all use it without depending on each other.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700


def restrict_umask() -> int:
    """Make everything this process creates from now on private; returns the previous umask."""
    return os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """`path` and any missing parents, each created 0700 (mkdir's mode can only lose bits to the umask)."""
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:  # another process made it meanwhile: theirs to keep
            pass
    return path


def ensure_private_file(path: Path) -> Path:
    """An empty 0600 file at `path` unless one exists: for a file that another library then fills."""
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    return path


def open_private(path: Path) -> int:
    """A file descriptor for reading and writing `path`, created 0600 if it is new (a lock file, say)."""
    private_dir(path.parent)
    return os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)


def write_private(path: Path, content: str | bytes) -> Path:
    """Replace `path` with `content` atomically, as a new 0600 file.

    Written to a fresh temporary name beside it and renamed over it: readers see the
    old or the new content, never half, and an existing file's looser mode is not kept.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    private_dir(path.parent)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # O_EXCL, 0600
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
