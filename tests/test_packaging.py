"""Packaging: setup.py asks for version ranges, tools/requirements.txt pins each package
exactly, and a missing optional extra is an error naming the command that installs it."""
import ast
import re
from pathlib import Path

import pytest

from asd_lib.utils import extras
from asd_lib.utils.extras import MissingExtraError, require

REPO = Path(__file__).resolve().parents[1]


def setup_arguments() -> dict:
    call = next(node for node in ast.walk(ast.parse((REPO / "setup.py").read_text()))
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setup")
    return {k.arg: ast.literal_eval(k.value) for k in call.keywords
            if k.arg in ("install_requires", "extras_require")}


def name_of(requirement: str) -> str:
    return re.split(r"[<>=!~ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_setup_asks_for_ranges_and_requirements_pin_every_one():
    args = setup_arguments()
    wanted = args["install_requires"] + [r for rs in args["extras_require"].values() for r in rs]
    assert all("==" not in r and ">=" in r for r in wanted), wanted
    pins = {}
    for line in (REPO / "tools/requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    assert {name_of(r) for r in wanted} <= set(pins)
    assert set(args["extras_require"]) == {"pretrained", "onnx", "test"}
    assert set(extras.EXTRAS.values()) <= set(args["extras_require"])


def test_a_missing_extra_names_its_install_command(monkeypatch):
    real = extras.importlib.import_module

    def without_onnxruntime(name, *args):
        if name == "onnxruntime":
            raise ModuleNotFoundError("No module named 'onnxruntime'")
        return real(name, *args)

    monkeypatch.setattr(extras.importlib, "import_module", without_onnxruntime)
    with pytest.raises(MissingExtraError, match=r"detect --onnx needs the onnxruntime package, "
                                                r"which is not installed: pip install -e "
                                                r"'\.\[onnx\]'"):
        require("onnxruntime", "detect --onnx")
    assert require("onnx", "export_onnx").__name__ == "onnx"  # an installed extra imports
