"""Files written whole or not at all, and advisory locks on files.

With :func:`staged` the new content is written to a temporary name, flushed to disk and renamed
over the target with ``os.replace``, so a reader (or a crash) sees the old file or the new one,
never half of one. The temporary file sits beside the target unless a scratch folder on the same
file system is given; it is removed when the write fails.
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path


def fsync_file(path: Path) -> None:
    """Flush a written file to disk before it is renamed into place."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_files(paths: list[Path]) -> None:
    """Flush many written files to disk at once (before they are renamed into place): the flushes
    run side by side, so the file system can commit them together instead of one after another."""
    if len(paths) <= 1:
        for path in paths:
            fsync_file(path)
        return
    with ThreadPoolExecutor(max_workers=min(FSYNC_THREADS, len(paths))) as pool:
        list(pool.map(fsync_file, paths))


FSYNC_THREADS = 16


@contextmanager
def staged(target: Path, tmp_dir: Path | None = None, *, mode: int | None = None) -> Iterator[Path]:
    """A temporary path to write ``target``'s new content to; when the block ends without an
    error the file is flushed, given ``mode`` (if set) and renamed over ``target``. The temporary
    name ends in ``.tmp`` and starts with a dot when it sits beside the target, so globs for the
    target's kind never see it. A failed write leaves ``target`` as it was and no temporary file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if tmp_dir is None:
        tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    else:
        tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / f"{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        yield tmp
        fsync_file(tmp)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str, tmp_dir: Path | None = None, *, mode: int | None = None) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically (see :func:`staged`)."""
    with staged(path, tmp_dir, mode=mode) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)


@contextmanager
def locked(path: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold an advisory ``flock`` on ``path`` (created if missing) for the block: exclusive, or
    shared with other shared holders. The lock goes with the process, so a crash never leaves one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
