"""What an experiment dir ``exp/<tag>/`` holds, read back for reports and detection.

Stage 3 writes ``exp/<tag>/run.sh``, whose last line is ``cd <recipe dir> && <command> "$@"``
(ESPnet keeps the same kind of script in its exp dirs); the command re-runs the
experiment. Stage 4 writes one score dir per inference (configuration and checkpoint) and set,
``exp/<tag>/<inference_tag>/<set>/``.
"""
import os
import re
import shlex
from pathlib import Path
from typing import List, NamedTuple, Optional

_RUN_LINE = re.compile(r'^cd (?P<dir>.+?) && (?P<command>.+?)\s+"\$@"\s*$')


class RunCommand(NamedTuple):
    """The recipe dir an experiment was run in and the command that made it."""

    directory: Path
    command: str


def read_run_command(exp_dir) -> Optional[RunCommand]:
    """The ``cd DIR && COMMAND "$@"`` line of ``exp_dir/run.sh``; None without run.sh.

    Raises ValueError naming the file when run.sh has no such line.
    """
    path = Path(exp_dir) / "run.sh"
    if not path.is_file():
        return None
    for line in reversed(path.read_text(encoding="utf-8").splitlines()):
        match = _RUN_LINE.match(line.strip())
        if match:
            directory = shlex.split(match.group("dir"))
            if len(directory) != 1:
                break
            return RunCommand(Path(directory[0]), match.group("command"))
    raise ValueError(f'{path}: no line `cd DIR && COMMAND "$@"`; it was not written by stage 3 '
                     "of asd.sh (re-run stage 3, or delete it)")


def command_from(run: RunCommand, base_dir) -> str:
    """The command as typed from ``base_dir``: ``cd <dir relative to base_dir> && ...``."""
    base = Path(base_dir).resolve()
    target = run.directory.resolve()
    if target == base:
        return run.command
    where = os.path.relpath(target, base) if target.is_relative_to(base) else str(target)
    return f"cd {shlex.quote(where)} && {run.command}"


def resolve_recipe_path(path, exp_dir) -> Path:
    """``path`` as given when it exists, else relative to the recipe dir of ``exp_dir``'s
    run.sh (paths in a saved config are relative to the recipe dir)."""
    path = Path(path)
    if path.exists() or path.is_absolute():
        return path
    run = read_run_command(exp_dir)
    if run is not None and (run.directory / path).exists():
        return run.directory / path
    return path


def score_dirs(exp_dir) -> List[Path]:
    """Score dirs ``<inference_tag>/<set>`` of ``exp_dir`` that hold results or plots, sorted."""
    exp_dir = Path(exp_dir)
    found = [
        path for path in exp_dir.glob("*/*")
        if path.is_dir() and ((path / "result.md").is_file() or (path / "plots").is_dir())
    ]
    return sorted(found)
