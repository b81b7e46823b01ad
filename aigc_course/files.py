"""Atomic file writes and checksums: a crash never leaves a half-written file behind.

:func:`atomic_write_bytes` writes ``path`` through a temporary file in the same folder, named
``.<name>.<pid>.<random>.tmp``, fsyncs it, renames it over ``path`` with ``os.replace`` and
fsyncs the folder, so after a crash or a power loss ``path`` holds either the old or the new
content, never a mixture. A process killed mid-write (SIGKILL, a power cut) cannot delete its
temporary file; the next write to the same ``path`` removes such leftovers
(:func:`remove_stale_temp_files`): only files of exactly that pattern, owned by this user,
whose writer process is gone or which are older than :data:`STALE_AFTER_S`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import stat
import time
from pathlib import Path

TEMP_SUFFIX = ".tmp"
STALE_AFTER_S = 3600.0  # a temp file untouched this long is dead whatever its pid says (pids get reused)


def _temp_pattern(name: str | None) -> re.Pattern[str]:
    # ".<name>.<pid>.<16 hex>.tmp" (this module) or ".<name>.<8 chars>.tmp" (mkstemp, course versions before it);
    # with no name, only the first form (it carries a pid, so it cannot be another program's file by accident)
    if name is None:
        return re.compile(rf"\..+\.(?P<pid>\d+)\.[0-9a-f]{{16}}{re.escape(TEMP_SUFFIX)}")
    return re.compile(rf"\.{re.escape(name)}\.(?:(?P<pid>\d+)\.[0-9a-f]{{16}}|[a-z0-9_]{{8}}){re.escape(TEMP_SUFFIX)}")


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # it exists (another user's), or we cannot tell: keep the file
    return True


def remove_stale_temp_files(folder: str | os.PathLike, name: str | None = None, *,
                            max_age_s: float = STALE_AFTER_S) -> list[Path]:
    """Delete the temporary files that interrupted writes left in ``folder``; return the ones removed.

    With ``name``, only leftovers of writes to ``folder/name``; without, those of any file there.
    A file is removed only when all hold: its name is ``.<name>.<pid>.<hex>.tmp`` (or, with
    ``name``, the older ``.<name>.<8 chars>.tmp``), it is a regular file (not a link or a folder)
    owned by this user, and either the process that wrote it no longer runs or it was last modified
    more than ``max_age_s`` seconds ago. A write in progress in another process is never touched.
    Problems (a folder that cannot be listed, a file that vanished) are ignored: cleaning up is
    best effort and must never stop the work that triggered it.
    """
    pattern = _temp_pattern(name)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
                continue
            pid = match.group("pid")
            orphaned = pid is not None and not _process_alive(int(pid))
            if orphaned or now - info.st_mtime > max_age_s:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as err:  # some file systems cannot fsync a folder; the data itself is synced
        if err.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.EACCES):
            raise
    finally:
        os.close(fd)


def _file_in_the_way(folder: Path) -> Path | None:
    """The nearest existing ancestor of ``folder`` (itself included) when it is not a folder, else None."""
    for part in (folder, *folder.parents):
        try:
            if part.exists():
                return None if part.is_dir() else part
        except OSError:
            return None
    return None


def _make_folder(folder: Path, path: Path, what: str) -> None:
    """``mkdir -p folder``; a file in the way is a NotADirectoryError naming it, other errors name ``path``."""
    blocker = _file_in_the_way(folder)
    if blocker is not None:
        raise NotADirectoryError(errno.ENOTDIR, f"cannot {what} {path}: {blocker} is a file, not a folder", str(blocker))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _named(err, path, what) from None


def _named(err: OSError, path: Path, action: str) -> OSError:
    """The same kind of OSError (PermissionError, ...) but naming ``path``, not a temporary file."""
    reason = err.strerror or str(err)
    return OSError(err.errno, f"cannot {action} {path}: {reason}", str(path)) if err.errno else \
        OSError(f"cannot {action} {path}: {reason}")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``.

    Creates the folder if needed. Every ``OSError`` (no permission, a read-only disk, a full
    disk, a parent that is a file, ``path`` that is a folder) is re-raised as the same kind of
    error naming ``path``; the temporary file is removed on any error that Python sees.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    path = Path(path)
    _make_folder(path.parent, path, "write")
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"cannot write {path}: it is a folder, not a file", str(path))
    remove_stale_temp_files(path.parent, path.name)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}{TEMP_SUFFIX}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as err:
        raise _named(err, path, "write") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(err, OSError):
            raise _named(err, path, "write") from None
        raise
    _fsync_folder(path.parent)
    return path


def _digest_of(path: str | os.PathLike, algorithm: str, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def require_writable_folder(folder: str | os.PathLike, name: str) -> Path:
    """Create ``folder`` if needed and prove a file can be written in it; return it as a Path.

    Raises ``NotADirectoryError`` when it (or a parent) is a file, and the ``OSError`` of the
    failed test write (``PermissionError`` for a read-only folder) naming ``name`` and the folder.
    Call it before long work whose result must be saved there (training), not after.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"{name} must be a folder, got the file {folder}", str(folder))
    blocker = _file_in_the_way(folder)
    if blocker is not None:
        raise NotADirectoryError(errno.ENOTDIR, f"{name} {folder} cannot be created: {blocker} is a file, not a folder",
                                 str(blocker))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test.{os.getpid()}.{secrets.token_hex(8)}{TEMP_SUFFIX}"
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except OSError as err:
        raise OSError(err.errno, f"{name} {folder} is not a folder this program can write to: "
                                 f"{err.strerror or err}", str(folder)) from None
    return folder


def md5_of(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex MD5 digest of a file, read in chunks."""
    return _digest_of(path, "md5", chunk_size)


def sha256_of(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 digest of a file, read in chunks (the offline bundle's SHA256SUMS)."""
    return _digest_of(path, "sha256", chunk_size)
