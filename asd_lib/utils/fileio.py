"""Atomic file writes and Kaldi-style ``key value`` text files.

Every output of a stage goes through :func:`atomic_write` (write to a temporary name in
the same directory, ``fsync``, then ``os.replace``), so a killed stage never leaves a
half-written file behind and a previous complete file survives a failed rewrite.
A temporary name carries the host and process id of its writer
(``.<name>.<host>.<pid>.<random>.tmp``): the first atomic write of a process into a
directory removes, and logs, the temporary files there of writers on this host that no
longer run (a ``kill -9``), so a re-run cleans up after the run it repeats.
"""
import contextlib
import errno
import logging
import os
import re
import secrets
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Set, Tuple

_UMASK = os.umask(0)
os.umask(_UMASK)
# Host names longer than this are cut, to keep temporary names within NAME_MAX.
_HOST_CHARS = 32
# Errors that mean the disk (or quota) is full: reported with the file and the fix.
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
# Directories this process has swept of dead writers' temporary files.
_SWEPT_DIRS: Set[str] = set()


def _host() -> str:
    return socket.gethostname()[:_HOST_CHARS]


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def remove_stale_temps(directory) -> List[Path]:
    """Remove the temporary files that writers on this host left in ``directory`` when they
    died (a ``kill -9``), logging each; return the removed paths.

    A writer that still runs (this process included) keeps its file; files written on
    another host are never touched (their process ids mean nothing here).
    """
    pattern = re.compile(r"\.(.+)\." + re.escape(_host()) + r"\.(\d+)\.[a-z0-9_]+\.tmp")
    removed = []
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for entry in entries:
            if not (entry.name.startswith(".") and entry.name.endswith(".tmp")):
                continue
            match = pattern.fullmatch(entry.name)
            if match is None or _process_alive(int(match.group(2))):
                continue
            try:
                os.unlink(entry.path)
            except OSError:  # gone already, or not ours to remove: leave it
                continue
            removed.append(Path(entry.path))
            logging.warning("removed %s, a partial %s left by a killed run (pid %s)",
                            entry.path, match.group(1), match.group(2))
    return removed


@contextlib.contextmanager
def atomic_write(path, mode: str = "w", **open_kwargs) -> Iterator:
    """Open a temporary file beside ``path``; rename it onto ``path`` only on success.

    On any error the temporary file is removed and ``path`` keeps its previous content;
    a full disk or quota raises ``OSError`` naming ``path`` and the fix.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    directory = os.path.abspath(path.parent)
    if directory not in _SWEPT_DIRS:  # once per directory: a scan costs O(files in it)
        remove_stale_temps(directory)
        _SWEPT_DIRS.add(directory)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_host()}.{os.getpid()}.", suffix=".tmp",
                               dir=path.parent)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise no_space_error(path, err) from err


def atomic_copy(src, dst) -> None:
    """Make ``dst`` hold what ``src`` holds, replacing it atomically: a hard link to
    ``src`` under a temporary name renamed onto ``dst`` (no bytes copied), or on a file
    system without hard links a copy through :func:`atomic_write`. ``src`` stays in place,
    and ``dst`` holds its previous or its new content at every moment; a later
    :func:`atomic_write` of ``src`` replaces ``src`` and leaves ``dst`` as it is."""
    src, dst = Path(src), Path(dst)
    tmp = dst.parent / f".{dst.name}.{_host()}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        os.link(src, tmp)
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
            raise
        with open(src, "rb") as f, atomic_write(dst, "wb") as out:
            shutil.copyfileobj(f, out)
        return
    try:
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def no_space_error(path, err: BaseException) -> BaseException:
    """``err``, or for a full disk or quota an ``OSError`` naming ``path`` and the fix."""
    if isinstance(err, OSError) and err.errno in _NO_SPACE:
        return OSError(err.errno, (
            f"{path}: cannot write it ({os.strerror(err.errno)}); the partial file was "
            f"removed and any previous {Path(path).name} is unchanged: free disk space (or "
            "quota) and re-run the same command"))
    return err


def read_kv(path, allow_empty: bool = False) -> Dict[str, str]:
    """Read a Kaldi text file (``key value...`` per line) into an insertion-ordered dict.

    Raises ``ValueError`` naming the file and line for a line that is not UTF-8, a line
    without a value, a duplicate key (both lines named), a Windows line ending, and for an
    empty file unless ``allow_empty``. The value is the rest of the line, so it may hold
    spaces.
    """
    table: Dict[str, str] = {}
    first_line: Dict[str, int] = {}
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                shown = raw.rstrip(b"\n").decode("utf-8", "backslashreplace")[:200]
                raise ValueError(f"{path}:{lineno}: not UTF-8 text ({shown}); a Kaldi list is "
                                 "UTF-8: rename the file it names to a UTF-8 name, or convert "
                                 "the list (iconv -t utf-8)") from None
            if "\r" in line:
                raise ValueError(
                    f"{path}:{lineno}: Windows line ending (CR character); run dos2unix {path}"
                )
            line = line.rstrip("\n")
            if not line.strip():
                continue
            parts = line.split(maxsplit=1)
            if len(parts) != 2:
                raise ValueError(f"{path}:{lineno}: expected 'key value', got {line!r}")
            key, value = parts
            if key in table:
                raise ValueError(
                    f"{path}:{lineno}: duplicate key {key!r} (also on line {first_line[key]}); "
                    "keys must be unique (remove one of the two lines or re-run data "
                    "preparation)"
                )
            table[key] = value.strip()
            first_line[key] = lineno
    if not table and not allow_empty:
        raise ValueError(f"{path}: no entries; the set is empty (check the corpus path)")
    return table


def write_kv(path, items: Iterable[Tuple[str, str]]) -> None:
    """Write ``key value`` lines sorted by key (C-locale byte order), atomically."""
    rows = sorted(items, key=lambda kv: kv[0].encode("utf-8"))
    with atomic_write(path) as f:
        for key, value in rows:
            f.write(f"{key} {value}\n")
