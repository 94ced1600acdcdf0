"""Atomic file writes and Kaldi-style ``key value`` text files.

Every output of a stage goes through :func:`atomic_write` (write to a temporary name in
the same directory, ``fsync``, then ``os.replace``), so a killed stage never leaves a
half-written file behind and a previous complete file survives a failed rewrite.
"""
import contextlib
import os
import tempfile
from pathlib import Path
from typing import Dict, Iterable, Iterator, Tuple

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_write(path, mode: str = "w", **open_kwargs) -> Iterator:
    """Open a temporary file beside ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_kv(path, allow_empty: bool = False) -> Dict[str, str]:
    """Read a Kaldi text file (``key value...`` per line) into an insertion-ordered dict.

    Raises ``ValueError`` naming the file and line for a line without a value or a
    duplicate key, and for an empty file unless ``allow_empty``.
    """
    table: Dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split(maxsplit=1)
            if len(parts) != 2:
                raise ValueError(f"{path}:{lineno}: expected 'key value', got {line!r}")
            key, value = parts
            if key in table:
                raise ValueError(
                    f"{path}:{lineno}: duplicate key {key!r}; keys must be unique "
                    "(remove the duplicate line or re-run data preparation)"
                )
            table[key] = value.strip()
    if not table and not allow_empty:
        raise ValueError(f"{path}: no entries; the set is empty (check the corpus path)")
    return table


def write_kv(path, items: Iterable[Tuple[str, str]]) -> None:
    """Write ``key value`` lines sorted by key (C-locale byte order), atomically."""
    rows = sorted(items, key=lambda kv: kv[0].encode("utf-8"))
    with atomic_write(path) as f:
        for key, value in rows:
            f.write(f"{key} {value}\n")
