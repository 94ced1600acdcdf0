"""setup.py's console scripts: one ``asd-<verb>`` per ``asd_lib.bin`` module with a
``main``, each resolving to a callable that runs that ``main`` as ``python -m`` does."""
import ast
import importlib
import sys
from pathlib import Path

import pytest

from asd_lib.bin import console

REPO = Path(__file__).resolve().parents[1]


def console_scripts() -> dict:
    """``{"asd-train": "asd_lib.bin.console:train", ...}`` as setup.py declares them."""
    call = next(node for node in ast.walk(ast.parse((REPO / "setup.py").read_text()))
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setup")
    entry_points = next(ast.literal_eval(k.value) for k in call.keywords
                        if k.arg == "entry_points")
    pairs = [line.split("=") for line in entry_points["console_scripts"]]
    return {name.strip(): target.strip() for name, target in pairs}


def bin_verbs() -> set:
    """The ``asd_lib.bin`` modules that define ``main``."""
    return {path.stem for path in (REPO / "asd_lib/bin").glob("*.py")
            if "\ndef main(" in path.read_text()}


def test_every_bin_module_with_a_main_has_a_console_script():
    assert set(console.VERBS) == bin_verbs()
    assert console_scripts() == {console.script_name(verb): f"asd_lib.bin.console:{verb}"
                                 for verb in console.VERBS}


@pytest.mark.parametrize("name", sorted(console_scripts()))
def test_every_console_script_resolves_to_a_callable(name):
    module, attr = console_scripts()[name].split(":")
    target = getattr(importlib.import_module(module), attr)
    assert callable(target) and target.__name__ == attr
    assert callable(importlib.import_module(f"asd_lib.bin.{attr}").main)


def test_a_console_script_runs_its_main_with_the_command_line(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["asd-compare", "--help"])
    with pytest.raises(SystemExit) as done:
        console.compare()
    assert done.value.code == 0
    assert "usage: asd-compare" in capsys.readouterr().out


def test_a_console_script_ends_a_bad_input_with_one_error_line(monkeypatch, tmp_path, capfd):
    monkeypatch.setattr(sys, "argv", ["asd-compare", str(tmp_path / "a"), str(tmp_path / "b")])
    with pytest.raises(SystemExit) as done:
        console.compare()
    assert done.value.code == 1
    lines = capfd.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "ERROR: " in lines[0] and "no such directory" in lines[0]
