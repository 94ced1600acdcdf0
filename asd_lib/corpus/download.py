"""Resumable, checksum-verified download of corpus archives, then extraction.

For each :class:`asd_lib.corpus.dcase2020.RemoteFile`:

1. skip it when ``<download_dir>/<name>.done`` exists (a finished earlier run);
2. download to ``<name>.part``, resuming with an HTTP ``Range`` request from the partial
   file's size; a server that ignores ``Range`` (answers 200) restarts the file cleanly;
3. verify the size (where known) and the MD5 sum; on a mismatch delete the file and
   download it once more, then fail naming the file. A file without a published sum gets
   a warning and a check that it is non-empty (plus the corpus' own ``validate`` hook,
   e.g. parsing the eval list, or :func:`check_zip` for the archives whose MD5 sums are
   not published: DCASE 2021, 2022, 2024, 2025). The evaluators' ground-truth files
   have sizes and MD5 sums computed by us (:mod:`asd_lib.corpus.evaluator_sums`);
4. unzip into ``<corpus_dir>/<target>`` (merging, so the two eval_data zips of a type share
   ``eval_data/<M>``) or copy a plain file to ``<corpus_dir>/<target>``;
5. write the ``.done`` marker last.
"""
import hashlib
import logging
import os
import shutil
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence

from asd_lib.utils.fileio import atomic_write

CHUNK = 1 << 20
NETWORK_ATTEMPTS = 3
logger = logging.getLogger(__name__)


class ChecksumError(RuntimeError):
    """An archive's MD5 sum differs from the published one (after one retry)."""


def md5sum(path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(url: str, dest: Path, timeout: float = 60.0) -> None:
    """Download ``url`` to ``dest``, resuming from ``dest.part``; rename when complete."""
    part = dest.with_name(dest.name + ".part")
    for attempt in range(1, NETWORK_ATTEMPTS + 1):
        try:
            _fetch_once(url, part, timeout)
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
            if isinstance(err, urllib.error.HTTPError) and err.code < 500:
                raise RuntimeError(f"{url}: HTTP {err.code} {err.reason}; check the URL or "
                                   "--mirror") from err
            if attempt == NETWORK_ATTEMPTS:
                raise RuntimeError(f"{url}: download failed after {attempt} attempts ({err}); "
                                   f"re-run to resume from {part}") from err
            logger.warning("%s: %s; retrying (attempt %d of %d)", url, err, attempt + 1,
                           NETWORK_ATTEMPTS)
            time.sleep(2 ** attempt)
    os.replace(part, dest)


def _fetch_once(url: str, part: Path, timeout: float) -> None:
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url)
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # nothing left to send: the part file is complete
            logger.info("%s: %s already complete", url, part.name)
            return
        raise
    with response:
        if have and response.status == 206:
            start = _content_range_start(response.headers.get("Content-Range", ""))
            if start != have:
                part.unlink()
                raise ConnectionError(f"{url}: server resumed at byte {start}, not {have}; "
                                      "restarting")
            mode = "ab"
            logger.info("%s: resuming at byte %d", url, have)
        else:
            if have:
                logger.info("%s: server ignored the Range request; restarting", url)
            mode, have = "wb", 0
        total = response.headers.get("Content-Length")
        logger.info("downloading %s (%s bytes)", url, int(total) + have if total else "unknown")
        with open(part, mode) as f:
            shutil.copyfileobj(response, f, CHUNK)


def _content_range_start(value: str) -> int:
    """``bytes 100-199/200`` -> 100 (-1 when malformed)."""
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return -1


def fetch_verified(remote, download_dir: Path) -> Path:
    """Download one remote file and check its MD5 (one retry after a mismatch)."""
    dest = download_dir / remote.name
    for attempt in (1, 2):
        if not dest.exists():
            fetch(remote.url, dest)
        if remote.md5 is None:
            logger.warning("%s: no published MD5 sum; checking size and format only", remote.name)
            if dest.stat().st_size == 0:
                dest.unlink()
                raise ChecksumError(f"{remote.name}: downloaded file is empty ({remote.url})")
            return dest
        size = dest.stat().st_size
        if remote.size is not None and size != remote.size:
            message = f"{remote.name}: {size} bytes, not the expected {remote.size}"
        else:
            got = md5sum(dest)
            if got == remote.md5:
                return dest
            message = f"{remote.name}: MD5 {got} does not match the published {remote.md5}"
        dest.unlink()
        if attempt == 1:
            logger.warning("%s; deleted, downloading again", message)
    raise ChecksumError(f"{message} (twice; deleted {dest}). The mirror may serve a different "
                        "file: check the URL or --mirror, then re-run")


def _safe_members(archive: zipfile.ZipFile, name: str):
    for info in archive.infolist():
        parts = Path(info.filename).parts
        if info.filename.startswith("/") or ".." in parts:
            raise ValueError(f"{name}: unsafe member path {info.filename!r}; refusing to extract")
        if parts and parts[0] != "__MACOSX":
            yield info


def check_zip(path, top: str) -> int:
    """Integrity check of an archive without a published checksum: it must open as a zip
    (a truncated download loses the central directory at its end), every member must match
    its stored CRC32 (``ZipFile.testzip`` reads them all), and every file must lie under
    ``<top>/`` (``__MACOSX`` ignored). Returns the number of files."""
    fix = "it is deleted; re-run to download it again"
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            names = [i.filename for i in archive.infolist()
                     if not i.is_dir() and Path(i.filename).parts[0] != "__MACOSX"]
    except (zipfile.BadZipFile, zlib.error, EOFError) as err:
        raise ValueError(f"{path}: not a complete zip archive ({err}); {fix}") from err
    if bad is not None:
        raise ValueError(f"{path}: member {bad} fails its CRC32 check (corrupt download); {fix}")
    outside = [n for n in names if Path(n).parts[0] != top]
    if not names or outside:
        found = f"e.g. {outside[0]}" if outside else "no files"
        raise ValueError(f"{path}: expected the files of {top}/ ({found}); the server sent "
                         f"another archive: check the URL or --mirror ({fix})")
    return len(names)


def extract(zip_path: Path, target: Path) -> int:
    """Unzip into ``target`` through a scratch folder, merging with what is there.
    Returns the number of files extracted."""
    scratch = target.parent / f".extract_{zip_path.stem}"
    if scratch.exists():
        shutil.rmtree(scratch)
    count = 0
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for info in _safe_members(archive, zip_path.name):
                archive.extract(info, scratch)
        for src in sorted(p for p in scratch.rglob("*") if p.is_file()):
            dst = target / src.relative_to(scratch)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            count += 1
    except zipfile.BadZipFile as err:
        raise ValueError(f"{zip_path}: not a valid zip ({err}); delete it and re-run") from err
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return count


def download_corpus(
    remotes: Sequence, download_dir, corpus_dir,
    validators: Optional[Dict[str, Callable[[Path], object]]] = None,
) -> Dict[str, str]:
    """Fetch, verify and unpack every remote file; returns ``{name: "done"|"skipped"}``.

    ``validators`` maps a file name to a callable run on the downloaded file before it is
    accepted (it raises on a malformed file).
    """
    download_dir, corpus_dir = Path(download_dir), Path(corpus_dir)
    download_dir.mkdir(parents=True, exist_ok=True)
    status = {}
    for remote in remotes:
        marker = download_dir / f"{remote.name}.done"
        if marker.exists():
            logger.info("%s: already done, skipping", remote.name)
            status[remote.name] = "skipped"
            continue
        path = fetch_verified(remote, download_dir)
        if validators and remote.name in validators:
            try:
                validators[remote.name](path)
            except ValueError:
                path.unlink()
                raise
        if remote.unzip:
            count = extract(path, corpus_dir / remote.target)
            logger.info("%s: extracted %d files into %s", remote.name, count,
                        corpus_dir / remote.target)
        else:
            with atomic_write(corpus_dir / remote.target, "wb") as f, open(path, "rb") as src:
                shutil.copyfileobj(src, f, CHUNK)
        with atomic_write(marker) as f:
            f.write(f"{remote.url} {remote.md5 or 'no-md5'}\n")
        status[remote.name] = "done"
    return status
