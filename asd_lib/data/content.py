"""What the clips of a dumped set hold, so that stage 3 can tell a training set whose audio
changed under the same clip names (a corpus synthesised again with another seed, or
recorded again) from the one an experiment was trained on.

- :func:`clip_digests`: a BLAKE2b digest (16 bytes) of every clip's samples as training
  reads them (:class:`~asd_lib.data.dataset.ArkReader`: a copy in a stage 2 archive, or a
  corpus wav referenced in place);
- :func:`files_digest`: one MD5 of the path, size, modification time and inode of every
  file the clips lie in, a ``stat`` per file.

A :class:`ContentRecord` keeps both (``exp/<tag>/train_content/``). A later check compares
the files digest and reads the clips again only where it differs: a dump rewritten with
the same samples (stage 2 run again) is no change, other samples under the same names are.
"""
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from asd_lib.data.dataset import ArkReader, split_location
from asd_lib.utils.fileio import atomic_write, read_kv, write_kv

CLIPS_FILE, FILES_FILE = "utt2digest", "files_digest"


def clip_digests(locations: Sequence[str]) -> List[str]:
    """The hex BLAKE2b-128 digest of each clip's int16 samples, in ``locations`` order."""
    with ArkReader(locations) as reader:
        return [hashlib.blake2b(reader.read(i).tobytes(), digest_size=16).hexdigest()
                for i in range(len(locations))]


def files_digest(locations: Sequence[str]) -> Optional[str]:
    """MD5 of ``path size mtime_ns inode`` of every file holding a clip of ``locations``
    (sorted, each once); ``None`` where a location is not a file (a pipe) or a file is
    gone, which no record matches."""
    paths = set()
    for location in locations:
        parsed = split_location(location)
        if parsed is None:
            return None
        paths.add(parsed.path)
    md5 = hashlib.md5()
    for path in sorted(paths):
        try:
            stat = os.stat(path)
        except OSError:
            return None
        md5.update(f"{path}\0{stat.st_size} {stat.st_mtime_ns} {stat.st_ino}\n".encode(
            "utf-8", "surrogateescape"))
    return md5.hexdigest()


@dataclass(frozen=True)
class ContentRecord:
    """``clips``: utterance id -> :func:`clip_digests` digest; ``files``:
    :func:`files_digest` when recorded."""

    clips: Dict[str, str]
    files: Optional[str]

    @classmethod
    def of(cls, utts: Sequence[str], locations: Sequence[str]) -> "ContentRecord":
        return cls(dict(zip(utts, clip_digests(locations))), files_digest(locations))

    def write(self, folder) -> None:
        folder = Path(folder)
        write_kv(folder / CLIPS_FILE, self.clips.items())
        with atomic_write(folder / FILES_FILE) as f:
            f.write(f"{self.files or 'none'}\n")

    @classmethod
    def read(cls, folder) -> Optional["ContentRecord"]:
        """The record in ``folder``, or ``None`` where there is none."""
        folder = Path(folder)
        if not (folder / CLIPS_FILE).is_file():
            return None
        files = (folder / FILES_FILE).read_text().strip() \
            if (folder / FILES_FILE).is_file() else "none"
        return cls(read_kv(folder / CLIPS_FILE), None if files == "none" else files)
