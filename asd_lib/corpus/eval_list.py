"""The layout every official evaluation list shares (DCASE 2020 ``eval_data_list.csv``, the
``eval_data_list_<year>.csv`` of 2021-2025): a row with one field names a machine type, and
the rows under it name that type's evaluation clips, comma-separated.

This module reads and writes that grouping; each layout checks the fields of its own rows
(:func:`asd_lib.corpus.dcase2020.layout.read_eval_list`,
:meth:`asd_lib.corpus.section_layout.SectionLayout.read_eval_list`).
"""
import codecs
import io
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, NamedTuple, Sequence, Tuple

from asd_lib.utils.fileio import atomic_write


class ListedRow(NamedTuple):
    """A data row of an evaluation list, under its machine-type header."""

    machine: str
    fields: List[str]  # stripped
    where: str  # "path:lineno", for messages
    lineno: int


def read_grouped(path, machine_types: Sequence[str], types_name: str, num_fields: int,
                 row_example: str, list_name: str) -> Iterator[ListedRow]:
    """The data rows of the list at ``path``, each with its machine type. Blank lines are
    skipped; LF or CRLF line endings and a UTF-8 BOM are accepted. A file that is not UTF-8
    text (the official lists are ASCII; a spreadsheet may re-save one as UTF-16 or
    Latin-1), a header that is not one of ``machine_types`` (``types_name`` in messages), a
    data row without ``num_fields`` fields (``row_example`` shows one) or before any
    header, and a list without data rows raise ValueError advising to re-download
    ``list_name``."""
    machine = None
    count = 0
    raw = Path(path).read_bytes()
    body = raw[len(codecs.BOM_UTF8):] if raw.startswith(codecs.BOM_UTF8) else raw
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        lineno = body[:err.start].count(b"\n") + 1
        raise ValueError(f"{path}:{lineno}: not UTF-8 text (byte 0x{body[err.start]:02x}); "
                         f"re-download {list_name}, or save it again as UTF-8 (or ASCII) "
                         "text") from None
    with io.StringIO(text, newline=None) as f:
        for lineno, line in enumerate(f, 1):
            fields = [x.strip() for x in line.strip().split(",")]
            where = f"{path}:{lineno}"
            if fields == [""]:
                continue
            if len(fields) == 1:
                if fields[0] not in machine_types:
                    raise ValueError(f"{where}: header row {fields[0]!r} is not a {types_name} "
                                     f"({', '.join(machine_types)}); re-download {list_name}")
                machine = fields[0]
                continue
            if len(fields) != num_fields:
                raise ValueError(f"{where}: expected '{row_example}' or a machine type, got "
                                 f"{line.strip()!r}; re-download {list_name}")
            if machine is None:
                raise ValueError(f"{where}: data row before any machine-type header row")
            count += 1
            yield ListedRow(machine, fields, where, lineno)
    if not count:
        raise ValueError(f"{path}: no data rows; re-download {list_name}")


def write_grouped(path, rows: Iterable[Tuple[str, ...]], machine_types: Sequence[str],
                  line_end: str = "\n") -> None:
    """Write ``(machine, field, ...)`` rows atomically, one header row per machine type in
    the order of ``machine_types``, each type's rows sorted, lines ending in ``line_end``."""
    by_machine: Dict[str, List[Tuple[str, ...]]] = {}
    for machine, *fields in rows:
        by_machine.setdefault(machine, []).append(tuple(str(x) for x in fields))
    with atomic_write(path, newline="") as f:
        for machine in (m for m in machine_types if m in by_machine):
            f.write(f"{machine}{line_end}")
            for fields in sorted(by_machine[machine]):
                f.write(",".join(fields) + line_end)
