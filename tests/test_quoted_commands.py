"""Every command quoted in a config header or in a README / docs code block names an existing
entry point and only options it accepts: ``python -m asd_lib.bin.X`` against X's
``get_parser()``, ``./run.sh`` against the options asd.sh declares above its
``parse_options.sh`` line (read from the file, so options added there count at once), and
``utils/*.sh`` against the options that script declares or the parser of the entry point
it runs (options after a bare ``--`` against run.sh's, which such a script passes them to);
the options inside ``--local_data_opts`` against those of local/data.sh."""
import argparse
import importlib
import importlib.util
import inspect
import re
import shlex
from pathlib import Path
from typing import Iterator, List, Set, Tuple

import pytest

REPO = Path(__file__).resolve().parents[1]
ASD_SH = REPO / "egs/TEMPLATE/asd1/asd.sh"
COMMAND = re.compile(r"(python3? -m asd_lib\.bin\.\w+|\./run\.sh|utils/[\w.]+\.sh)")
ENDS = {"|", ">", ">>", "&&", "||", ";", "2>&1"}
OPTION = re.compile(r"--[A-Za-z][\w-]*")


def header_lines(path: Path) -> List[Tuple[int, str]]:
    lines = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if not line.startswith("#"):
            break
        lines.append((lineno, line[1:]))
    return lines


def code_block_lines(path: Path) -> List[Tuple[int, str]]:
    lines, inside = [], False
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if line.lstrip().startswith("```"):
            inside = not inside
        elif inside:
            lines.append((lineno, line))
    return lines


def commands(path: Path, lines: List[Tuple[int, str]]) -> Iterator[Tuple[str, str]]:
    """``(where, command text)``, continuation lines (trailing backslash) joined."""
    joined: List[Tuple[int, str]] = []
    for lineno, line in lines:
        if joined and joined[-1][1].endswith("\\"):
            joined[-1] = (joined[-1][0], joined[-1][1][:-1] + " " + line.strip())
        else:
            joined.append((lineno, line.rstrip()))
    for lineno, line in joined:
        match = COMMAND.search(line)
        if match:
            yield f"{path.relative_to(REPO)}:{lineno}", line[match.start():]


def quoted_commands() -> List[Tuple[str, str]]:
    found = []
    for path in sorted(REPO.glob("egs/*/asd1/conf/**/*.yaml")):
        found += commands(path, header_lines(path))
    docs = [REPO / "README.md", *sorted(REPO.glob("docs/*.md")),
            *sorted(REPO.glob("egs/*/asd1/**/README.md"))]
    for path in docs:
        found += commands(path, code_block_lines(path))
    return found


QUOTED = quoted_commands()


def tokens(command: str) -> List[str]:
    try:
        words = shlex.split(command, comments=True)
    except ValueError:  # an unbalanced quote in prose around the command
        words = command.split()
    out = []
    for word in words[1:] if not command.startswith("python") else words[3:]:
        if word in ENDS or word.startswith("#"):
            break
        out.append(word)
    return out


def options_of(words: List[str]) -> List[str]:
    return [w.split("=")[0] for w in words if OPTION.fullmatch(w.split("=")[0])]


def declared_shell_options(script: Path) -> Set[str]:
    """``--name`` of every ``name=`` line above the line sourcing parse_options.sh (the rule
    of utils/parse_options.sh), plus its own ``--config`` and ``--help``."""
    names = {"--config", "--help"}
    for line in script.read_text().splitlines():
        if re.match(r"\s*(\.|source)\s.*parse_options\.sh", line):
            return names
        match = re.match(r"([A-Za-z][A-Za-z0-9_]*)=", line)
        if match:
            names.add("--" + match.group(1))
    raise AssertionError(f"{script} does not source parse_options.sh")


def parser_options(module: str, words: List[str]) -> Set[str]:
    assert importlib.util.find_spec(f"asd_lib.bin.{module}"), f"no entry point asd_lib.bin.{module}"
    get_parser = importlib.import_module(f"asd_lib.bin.{module}").get_parser
    kwargs = {}
    if "layout" in inspect.signature(get_parser).parameters and "--layout" in words:
        kwargs["layout"] = words[words.index("--layout") + 1]
    parser: argparse.ArgumentParser = get_parser(**kwargs)
    return set(parser._option_string_actions)


def accepted(command: str, words: List[str]) -> Tuple[str, Set[str]]:
    if command.startswith("python"):
        module = command.split()[2].split(".")[-1]
        return module, parser_options(module, words)
    if command.startswith("./run.sh"):
        return "asd.sh", {o.replace("-", "_").replace("__", "--", 1)
                          for o in declared_shell_options(ASD_SH)}
    script = REPO / command.split()[0]
    assert script.is_file(), f"no script {script.relative_to(REPO)}"
    text = script.read_text()
    if "parse_options.sh" in text:
        return script.name, declared_shell_options(script)
    runs = re.search(r"-m asd_lib\.bin\.(\w+)", text)
    assert runs, f"{script.name}: no declared options and no entry point to read them from"
    return runs.group(1), parser_options(runs.group(1), words)


def normalised(option: str, command: str) -> str:
    """parse_options.sh reads ``--stop-stage`` as ``stop_stage``."""
    return "--" + option[2:].replace("-", "_") if not command.startswith("python") else option


def test_commands_are_found():
    where = [w for w, _ in QUOTED]
    assert len(QUOTED) >= 20
    assert any(w.startswith("egs/dcase24/asd1/conf/tuning/train_w2v2_ast.yaml") for w in where)
    assert any(w.startswith("README.md") for w in where)


def data_options(where: str) -> Set[str]:
    """What ``--local_data_opts`` may hold: the options of the quoting recipe's
    local/data.sh (a config header), or of any recipe's (README and docs); every recipe's
    is a link to utils/data.sh."""
    recipe = re.match(r"egs/(dcase\d\d)/", where)
    scripts = [REPO / "egs" / recipe.group(1) / "asd1/local/data.sh"] if recipe else \
        sorted(REPO.glob("egs/dcase*/asd1/local/data.sh"))
    return set().union(*(declared_shell_options(s) for s in scripts))


@pytest.mark.parametrize("where, command", QUOTED, ids=[w for w, _ in QUOTED])
def test_quoted_command_exists_and_takes_its_options(where, command):
    words = tokens(command)
    passed_on = []
    if command.startswith("utils/") and "--" in words:  # after "--": run.sh's options
        words, passed_on = words[:words.index("--")], words[words.index("--") + 1:]
        unknown = [o for o in options_of(passed_on)
                   if normalised(o, "./run.sh") not in accepted("./run.sh", passed_on)[1]]
        assert not unknown, f"{where}: run.sh does not accept {unknown}"
    entry, known = accepted(command, words)
    unknown = [o for o in options_of(words) if normalised(o, command) not in known]
    assert not unknown, f"{where}: {entry} does not accept {unknown}"
    words += passed_on
    if "--local_data_opts" in words:
        inner = shlex.split(words[words.index("--local_data_opts") + 1])
        unknown = [o for o in options_of(inner) if normalised(o, "") not in data_options(where)]
        assert not unknown, f"{where}: local/data.sh does not accept {unknown}"


def test_the_check_notices_a_wrong_option_and_a_missing_entry_point():
    words = tokens('./run.sh --stage 6 --ensemble_levels embedding --tag "a b"')
    entry, known = accepted("./run.sh", words)
    assert [o for o in options_of(words) if normalised(o, "./run.sh") not in known] == [
        "--ensemble_levels"]
    assert "--label_scheme" in data_options("egs/dcase24/asd1/conf/tuning/x.yaml")
    assert "--ensemble_levels" not in data_options("egs/dcase20/asd1/conf/x.yaml")
    with pytest.raises(AssertionError, match="no entry point asd_lib.bin.fuse_embeddings"):
        accepted("python -m asd_lib.bin.fuse_embeddings --systems a b", [])
