"""A results directory belongs to one run: ``sgdbench run`` claims ``--out`` before computing.

The claim is an exclusive ``flock`` on ``OUT/.sgdbench-run.lock``, held for the run's life.
The kernel drops it when the process ends, however it ends, so a killed run leaves nothing
that blocks a rerun (a lock file with a dead pid and a lock nobody holds), and there is no
stale-lock guessing from pids. The file names its holder for the refusal message.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".sgdbench-run.lock"


class ClaimError(RuntimeError):
    """``--out`` is being written by another run right now."""


@contextmanager
def claim(out: Path) -> Iterator[None]:
    """Hold ``out`` for one run; ClaimError at once (never a wait) when another run holds it."""
    lock = Path(out) / LOCK_NAME
    fd = _acquire(lock)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)  # before the unlock: a newcomer then opens a fresh file
        os.close(fd)


def _acquire(lock: Path) -> int:
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise ClaimError(
                f"--out {str(lock.parent)!r} is being written by another sgdbench run ({holder}). "
                "Fix: wait for it to finish, or choose another directory"
            ) from None
        # The holder we waited out may have unlinked the file between our open and our lock:
        # then we hold a lock on a file nobody else can see. Start again on the one at the path.
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}, since "
                         f"{time.strftime('%Y-%m-%d %H:%M:%S')}".encode())  # fmt: skip
            return fd
        os.close(fd)


def _holder(fd: int) -> str:
    text = os.pread(fd, 200, 0).decode(errors="replace").strip()
    return text or "holder unknown"
